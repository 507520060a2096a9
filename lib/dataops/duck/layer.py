"""DuckDB layer: the Iceberg table queryable by name, offline.

The iceberg and avro extensions come from their PyPI wheels
(``duckdb-extension-iceberg``, ``duckdb-extension-avro``; ``duckdb-extension-httpfs`` too for
a REST catalog, :func:`attach_tableflow`) and are loaded straight from the installed files: no
network, nothing written to ``~/.duckdb``.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from dataops.contract import contract_for
from dataops.config import Settings
from dataops.errors import ConfigError, DataOpsError
from dataops.iceberg.layer import IcebergLayer


def extension_file(name: str) -> Path:
    """The ``.duckdb_extension`` file shipped by the ``duckdb-extension-<name>`` wheel."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    return Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach_tableflow(con: duckdb.DuckDBPyConnection, settings: Settings, alias: str = "tableflow") -> str:
    """Attach Tableflow's Iceberg REST catalog (``DATAOPS_TABLEFLOW_*``) to ``con`` as ``alias``.

    A temporary DuckDB secret of type iceberg holds the API key and secret (OAuth2 client
    credentials, scope ``catalog``, the catalog's own token endpoint); the catalog's namespaces are
    then schemas of ``alias``: ``SELECT * FROM tableflow."lkc-…"."crypto-prices-exploded"``.

    Raises:
        ConfigError: The catalog refused the key and secret, or cannot be reached (one line naming the settings).
    """
    from dataops.iceberg.layer import CREDENTIAL_HINT, TABLEFLOW_SCOPE

    settings.require("tableflow_endpoint", "tableflow_api_key", "tableflow_api_secret")
    uri = str(settings.tableflow_endpoint).rstrip("/")
    for name in ("avro", "httpfs", "iceberg"):  # avro before iceberg (see DuckLayer); httpfs speaks HTTP for it
        con.execute(f"LOAD '{extension_file(name)}'")
    secret = f"{alias}_secret"
    try:  # the extension asks for a token when the secret is made: a refused pair fails here
        con.execute(
            f"CREATE OR REPLACE TEMPORARY SECRET {secret} (TYPE iceberg, "
            f"CLIENT_ID {_sql_text(settings.tableflow_api_key.get_secret_value())}, "  # type: ignore[union-attr]
            f"CLIENT_SECRET {_sql_text(settings.tableflow_api_secret.get_secret_value())}, "  # type: ignore[union-attr]
            f"OAUTH2_SERVER_URI {_sql_text(uri + '/v1/oauth/tokens')}, OAUTH2_SCOPE {_sql_text(TABLEFLOW_SCOPE)})"
        )
        con.execute(f"ATTACH 'warehouse' AS {alias} (TYPE iceberg, ENDPOINT {_sql_text(uri)}, SECRET {secret})")
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        if "401" in first or "invalid_client" in first:
            raise ConfigError(f"el catálogo de Tableflow ({uri}) rechazó la clave y el secreto", CREDENTIAL_HINT) from None
        raise ConfigError(
            f"DuckDB no pudo abrir el catálogo de Tableflow ({uri}): {first}",
            "revisa DATAOPS_TABLEFLOW_ENDPOINT, DATAOPS_TABLEFLOW_API_KEY y DATAOPS_TABLEFLOW_API_SECRET",
        ) from None
    return alias


def _metadata_path(location: str) -> str:
    # Java's HadoopFileIO writes "file:/…", pyiceberg "file:///…": DuckDB wants a plain path.
    for prefix in ("file://", "file:"):
        if location.startswith(prefix):
            return location[len(prefix):]
    return location


class _Queries:
    """The course's queries on a view of the exploded rows (``self.view``), for either catalog."""

    con: duckdb.DuckDBPyConnection
    view: str
    price: str

    def refresh(self) -> None:
        """Point the views at the newest data (nothing to do for an attached catalog)."""

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL on the newest data and return a DataFrame."""
        self.refresh()
        with warnings.catch_warnings():
            # DuckDB's own DataFrame conversion trips a pandas 3 deprecation warning.
            warnings.simplefilter("ignore", category=Warning)
            try:
                return self.con.execute(sql, params or []).df()
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise DataOpsError(f"DuckDB no pudo ejecutar la consulta: {first[:200]}",
                                   f"revisa el SQL; las filas explotadas son la vista {self.view}") from None  # fmt: skip

    def per_coin(self) -> pd.DataFrame:
        """The course's first query: records per coin, average price, first and last event time."""
        price, view = self.price, self.view
        return self.query(
            f"""
            SELECT coin_id, count(*) AS records, avg({price}) AS avg_{price},
                   min(event_time) AS first_event, max(event_time) AS last_event
            FROM {view} GROUP BY coin_id ORDER BY coin_id
            """
        )

    def trends(self, minutes: int = 10) -> pd.DataFrame:
        """Tumbling-window trends per coin: average, volatility (stddev) and direction."""
        price, view = self.price, self.view
        return self.query(
            f"""
            SELECT coin_id, time_bucket(INTERVAL '{int(minutes)} minutes', event_time) AS window_start,
                   count(*) AS records, avg({price}) AS avg_{price}, stddev_samp({price}) AS volatility,
                   arg_min({price}, event_time) AS first_{price}, arg_max({price}, event_time) AS last_{price},
                   CASE WHEN arg_max({price}, event_time) > arg_min({price}, event_time) THEN 'up'
                        WHEN arg_max({price}, event_time) < arg_min({price}, event_time) THEN 'down'
                        ELSE 'flat' END AS direction
            FROM {view} GROUP BY ALL ORDER BY coin_id, window_start
            """
        )

    def close(self) -> None:
        self.con.close()


class DuckLayer(_Queries):
    """A DuckDB connection where Iceberg tables are views named like the table.

    ``crypto.crypto_prices_exploded`` (the ``iceberg_table`` setting) is the view
    ``crypto_prices_exploded`` (and ``crypto.crypto_prices_exploded`` too). Each
    :meth:`query` first points the views at the newest snapshot.
    """

    def __init__(self, iceberg: IcebergLayer, tables: tuple[str, ...] | None = None, threads: int | None = None) -> None:
        self.iceberg = iceberg
        self.tables = tables or (iceberg.settings.iceberg_table,)
        self.view = iceberg.settings.iceberg_table.split(".", 1)[1]  # the exploded rows, by their short name
        self.price = contract_for(iceberg.settings).price
        self._locations: dict[str, str] = {}
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if threads:
            config["threads"] = threads
        self.con = duckdb.connect(config=config)
        # avro first: iceberg's initialisation would otherwise try to install it from the network.
        self.con.execute(f"LOAD '{extension_file('avro')}'")
        self.con.execute(f"LOAD '{extension_file('iceberg')}'")
        self.refresh()

    def refresh(self) -> None:
        """Point each table's view at its current metadata file."""
        for name in self.tables:
            location = _metadata_path(self.iceberg.table(name).metadata_location)
            if self._locations.get(name) == location:
                continue  # no new commit since the last query
            self._locations[name] = location
            namespace, table = name.split(".", 1)
            self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{namespace}"')
            scan = f"SELECT * FROM iceberg_scan('{location}')"
            self.con.execute(f'CREATE OR REPLACE VIEW "{namespace}"."{table}" AS {scan}')
            self.con.execute(f'CREATE OR REPLACE VIEW "{table}" AS {scan}')

class TableflowDuck(_Queries):
    """DuckDB on Tableflow's Iceberg REST catalog (the ``confluent`` profile's ``p.duck``).

    The catalog is attached with its OAuth2 secret (:func:`attach_tableflow`); the topic's table,
    ``tableflow."<cluster id>"."<topic>"`` as Tableflow names it, is the view named like the local
    table's short name (``crypto_prices_exploded``), so the same SQL runs in both profiles. Each
    query reads the table's current snapshot from the catalog.

    Raises:
        ConfigError: No cluster id (the table's namespace), or the catalog refused the key and secret.
    """

    def __init__(self, settings: Settings) -> None:
        settings.require("confluent_cluster_id")
        self.settings = settings
        self.view = settings.iceberg_table.split(".", 1)[1]
        self.price = contract_for(settings).price
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
        alias = attach_tableflow(self.con, settings)
        self.table = f'{alias}."{settings.confluent_cluster_id}"."{settings.topic_exploded}"'
        self.con.execute(f'CREATE OR REPLACE VIEW "{self.view}" AS SELECT * FROM {self.table}')


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.duck.protocol import Duck

    _CHECKED: type[Duck] = DuckLayer
    _CHECKED_TABLEFLOW: type[Duck] = TableflowDuck
