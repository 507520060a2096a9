"""The ``local`` profile: every engine runs on this machine, started by ``dataops up``."""

from __future__ import annotations

from typing import Any

from dataops.profiles.base import Profile, register


def simulator(settings: Any, p: Any) -> Any:
    from dataops.source.layer import SimulatorLayer

    return SimulatorLayer(settings.simulator_url)


def kafka(settings: Any, p: Any) -> Any:
    from dataops.kafka.layer import KafkaLayer

    return KafkaLayer(settings)


def kafka_connect(settings: Any, p: Any) -> Any:
    from dataops.kafka_connect.layer import ConnectLayer

    return ConnectLayer(settings.connect_url)


def flink(settings: Any, p: Any) -> Any:
    from dataops.flink.layer import FlinkLayer

    return FlinkLayer(settings.flink_url, job_name=settings.flink_job_name)


def iceberg(settings: Any, p: Any) -> Any:
    from dataops.iceberg.layer import IcebergLayer, sql_catalog

    return IcebergLayer(settings, sql_catalog)


def duck(settings: Any, p: Any) -> Any:
    from dataops.duck.layer import DuckLayer

    return DuckLayer(p.iceberg if p is not None else iceberg(settings, None))


def stack(settings: Any, p: Any) -> Any:
    from dataops.stack import Stack

    return Stack(settings)


LOCAL = register(
    Profile(
        "local",
        builders={"source": simulator, "kafka": kafka, "connect": kafka_connect, "flink": flink,
                  "iceberg": iceberg, "duck": duck, "stack": stack},  # fmt: skip
        absent={
            "schema_registry": (
                "the Schema Registry is a Confluent Cloud service",
                "set DATAOPS_PROFILE=confluent and DATAOPS_SCHEMA_REGISTRY_URL/API_KEY/API_SECRET",
            ),
        },
        runs_stack=True,
    )
)
