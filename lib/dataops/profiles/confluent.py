"""The ``confluent`` profile: Kafka, Flink statements and Tableflow on Confluent Cloud."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.config import Settings
from dataops.profiles.base import Profile, register
from dataops.profiles.local import kafka

# The layers' protocols are annotations only: importing them at run time would load pandas,
# requests and pyarrow into every process that reads the settings (the simulator's among them).
if TYPE_CHECKING:
    from dataops.duck.protocol import Duck
    from dataops.facade import Layers
    from dataops.iceberg.protocol import Iceberg
    from dataops.registry.protocol import SchemaRegistry
    from dataops.source.protocol import Source


def coingecko(settings: Settings, p: Layers | None) -> Source:
    """The real CoinGecko API (``DATAOPS_COINGECKO_URL``), with the key in the plan's header."""
    from dataops.source.api import CoinGeckoLayer

    return CoinGeckoLayer(settings.source_api_url, api_key=settings.coingecko_api_key,
                          key_header=settings.source_key_header, coins=settings.coins)  # fmt: skip


def tableflow(settings: Settings, p: Layers | None) -> Iceberg:
    from dataops.iceberg.layer import IcebergLayer, tableflow_catalog

    return IcebergLayer(settings, tableflow_catalog)


def tableflow_duck(settings: Settings, p: Layers | None) -> Duck:
    from dataops.duck.layer import TableflowDuck

    return TableflowDuck(settings)


def schema_registry(settings: Settings, p: Layers | None) -> SchemaRegistry:
    from dataops.registry.layer import SchemaRegistryLayer

    return SchemaRegistryLayer(settings)


_CLOUD = "usa la consola de Confluent Cloud, o DATAOPS_PROFILE=local para el pipeline local"

CONFLUENT = register(
    Profile(
        "confluent",
        builders={"source": coingecko, "kafka": kafka, "iceberg": tableflow, "duck": tableflow_duck, "schema_registry": schema_registry},
        absent={
            "connect": ("el perfil 'confluent' no inspecciona Kafka Connect (conectores gestionados)", _CLOUD),
            "flink": ("el perfil 'confluent' no inspecciona Flink (sentencias de Flink en Confluent Cloud)", _CLOUD),
            "stack": ("el perfil 'confluent' no usa el stack local",
                      "pon DATAOPS_PROFILE=local para ejecutar el pipeline en esta máquina"),  # fmt: skip
        },
        kafka_auth="sasl_plain",
        kafka_from_settings=True,
        real_api=True,
        manages=frozenset({"topic"}),
        sampled=("kafka", "rows", "iceberg"),
        required=("kafka_bootstrap", "kafka_api_key", "kafka_api_secret"),
        maintains_table=False,
    )
)
