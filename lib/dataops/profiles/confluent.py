"""The ``confluent`` profile: Kafka, Flink statements and Tableflow on Confluent Cloud."""

from __future__ import annotations

from dataops.config import Settings
from dataops.facade import Layers
from dataops.iceberg.protocol import Iceberg
from dataops.profiles.base import Profile, register
from dataops.registry.protocol import SchemaRegistry
from dataops.profiles.local import kafka


def tableflow(settings: Settings, p: Layers | None) -> Iceberg:
    from dataops.iceberg.layer import IcebergLayer, tableflow_catalog

    return IcebergLayer(settings, tableflow_catalog)


def schema_registry(settings: Settings, p: Layers | None) -> SchemaRegistry:
    from dataops.registry.layer import SchemaRegistryLayer

    return SchemaRegistryLayer(settings)


_CLOUD = "use the Confluent Cloud console, or DATAOPS_PROFILE=local for the local pipeline"

CONFLUENT = register(
    Profile(
        "confluent",
        builders={"kafka": kafka, "iceberg": tableflow, "schema_registry": schema_registry},
        absent={
            "source": ("the CoinGecko simulator is not inspected in the 'confluent' profile", _CLOUD),
            "connect": ("Kafka Connect (managed connectors) is not inspected in the 'confluent' profile", _CLOUD),
            "flink": ("Flink (Confluent Cloud Flink statements) is not inspected in the 'confluent' profile", _CLOUD),
            "duck": ("DuckDB reads the local Iceberg table only",
                     "in the confluent profile use p.iceberg.read(name) (pyiceberg over Tableflow's catalog)"),  # fmt: skip
            "stack": ("the local stack is not used by the 'confluent' profile",
                      "set DATAOPS_PROFILE=local to run the pipeline on this machine"),  # fmt: skip
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
