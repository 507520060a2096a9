"""The ``local`` profile: every engine runs on this machine, started by ``dataops up``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.config import Settings
from dataops.profiles.base import Profile, register

if TYPE_CHECKING:
    from dataops.duck.protocol import Duck
    from dataops.facade import Layers
    from dataops.flink.protocol import Flink
    from dataops.iceberg.protocol import Iceberg
    from dataops.kafka.protocol import Kafka
    from dataops.kafka_connect.protocol import Connect
    from dataops.registry.protocol import SchemaRegistry
    from dataops.source.protocol import Source
    from dataops.stack import Stack


def simulator(settings: Settings, p: Layers | None) -> Source:
    from dataops.source.layer import SimulatorLayer

    key = settings.coingecko_api_key if settings.simulator_strict else None
    return SimulatorLayer(settings.simulator_url, api_key=key, key_header=settings.source_key_header, control_token=settings.simulator_token)


def kafka(settings: Settings, p: Layers | None) -> Kafka:
    from dataops.kafka.layer import KafkaLayer

    return KafkaLayer(settings)


def kafka_connect(settings: Settings, p: Layers | None) -> Connect:
    from dataops.kafka_connect.layer import ConnectLayer

    return ConnectLayer(settings.connect_url)


def flink(settings: Settings, p: Layers | None) -> Flink:
    from dataops.flink.layer import FlinkLayer

    return FlinkLayer(settings.flink_url, job_name=settings.flink_job_name)


def iceberg(settings: Settings, p: Layers | None) -> Iceberg:
    from dataops.iceberg.layer import IcebergLayer, sql_catalog

    return IcebergLayer(settings, sql_catalog)


def duck(settings: Settings, p: Layers | None) -> Duck:
    from dataops.duck.layer import DuckLayer
    from dataops.iceberg.layer import IcebergLayer

    table = p.iceberg if p is not None else iceberg(settings, None)
    assert isinstance(table, IcebergLayer), "DuckDB reads the SQL catalog's files: the local IcebergLayer"
    return DuckLayer(table)


def schema_registry(settings: Settings, p: Layers | None) -> SchemaRegistry:
    """The optional local registry (``dataops up --with schema-registry``); without it every call
    says in one line how to start it."""
    from dataops.registry.layer import SchemaRegistryLayer

    return SchemaRegistryLayer(settings)


def sink_catalog(settings: Settings) -> dict[str, str]:
    """The Iceberg sink's catalog (the SQL catalog's file, shared with pyiceberg) and the local broker."""
    from dataops.iceberg.layer import IcebergLayer

    return {**IcebergLayer(settings).java_catalog_config(), "iceberg.kafka.bootstrap.servers": f"{settings.host}:{settings.kafka_port}"}


def stack(settings: Settings, p: Layers | None) -> Stack:
    from dataops.stack import Stack

    return Stack(settings)


LOCAL = register(
    Profile(
        "local",
        builders={"source": simulator, "kafka": kafka, "connect": kafka_connect, "flink": flink,
                  "iceberg": iceberg, "duck": duck, "schema_registry": schema_registry, "stack": stack},  # fmt: skip
        runs_stack=True,
        sink_catalog=sink_catalog,
    )
)
