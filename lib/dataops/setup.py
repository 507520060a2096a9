"""The course's "setup-pipeline" automation: topics and connector, idempotently."""

from __future__ import annotations

import logging
import time

import pandas as pd

from dataops import layers
from dataops.config import Settings
from dataops.kafka_connect import ConnectLayer
from dataops.errors import ConfigError, StackError
from dataops.kafka import KafkaLayer

logger = logging.getLogger(__name__)

CONNECTOR_CLASS = "org.dataops.connect.http.HttpSourceConnector"


def topic_specs(settings: Settings) -> dict[str, tuple[int, dict[str, str]]]:
    """Topic name → (partitions, configs), with the course's settings (3 partitions, 7 days)."""
    config = {"retention.ms": str(settings.topic_retention_ms), "cleanup.policy": "delete"}
    return {
        settings.topic_raw: (settings.topic_partitions, config),
        settings.topic_exploded: (settings.topic_partitions, config),
        settings.topic_dlq: (1, config),
        # The Iceberg sink's coordination topic: never recreate it under the same connector name.
        settings.topic_iceberg_control: (1, config),
    }


def connector_config(settings: Settings) -> dict[str, str]:
    """The HTTP source connector's config: one record per poll, the body as a string value."""
    config = {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",
        "http.url": settings.price_url(),
        "http.poll.interval.ms": str(int(settings.poll_interval_s * 1000)),
        "kafka.topic": settings.topic_raw,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "exactly.once.support": "required",
    }
    if settings.profile == "confluent" and settings.coingecko_api_key is not None:
        config["http.api.key"] = settings.coingecko_api_key.get_secret_value()
    return config


def iceberg_sink_config(settings: Settings) -> dict[str, str]:
    """The Tableflow stage: Apache Iceberg's Kafka Connect sink, exactly once.

    The task writes data files, then commits the input offsets and its control events
    in one Kafka transaction; the coordinator commits the table every
    ``iceberg_commit_interval_s`` and records its control offsets in the snapshot summary.
    """
    from dataops.iceberg import IcebergLayer

    timeouts = {"session.timeout.ms": "10000", "heartbeat.interval.ms": "3000"}
    return {
        "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
        "tasks.max": "1",
        "topics": settings.topic_exploded,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "consumer.override.isolation.level": "read_committed",
        **{f"consumer.override.{k}": v for k, v in timeouts.items()},
        "iceberg.tables": settings.iceberg_table,
        # The table is created by pyiceberg with typed timestamps; auto-create would make strings.
        "iceberg.tables.auto-create-enabled": "false",
        "iceberg.tables.evolve-schema-enabled": "false",
        "iceberg.control.topic": settings.topic_iceberg_control,
        "iceberg.control.commit.interval-ms": str(int(settings.iceberg_commit_interval_s * 1000)),
        "iceberg.control.commit.timeout-ms": "10000",
        **IcebergLayer(settings).java_catalog_config(),
        "iceberg.kafka.bootstrap.servers": f"{settings.host}:{settings.kafka_port}",
        **{f"iceberg.kafka.{k}": v for k, v in timeouts.items()},
    }


def ensure_topics(settings: Settings) -> pd.DataFrame:
    kafka = KafkaLayer(settings)
    rows = []
    for name, (partitions, config) in topic_specs(settings).items():
        action = kafka.ensure_topic(name, partitions, config)
        rows.append({"step": f"topic {name}", "action": action})
    return pd.DataFrame(rows)


def deploy_connector(settings: Settings, name: str | None = None, wanted: dict[str, str] | None = None, wait_s: float = 60.0) -> pd.DataFrame:
    """Create or update a connector (default: the HTTP source) and wait until its task runs."""
    if not layers.offers(settings.profile, "connect"):
        raise ConfigError(
            "the confluent profile uses Confluent Cloud's managed connectors and Tableflow",
            "create them in Confluent Cloud; `dataops pipeline setup` only creates the topics there",
        )
    client = ConnectLayer(settings.connect_url)
    name = name or settings.connector_name
    wanted = wanted or connector_config(settings)
    current = client.config(name)
    if current is None:
        action = "created"
    elif {k: v for k, v in current.items() if k != "name"} != wanted:
        action = "updated"
    else:
        action = "unchanged"
    if action != "unchanged":
        client.put_config(name, wanted)
    state = wait_running(client, name, wait_s)
    return pd.DataFrame([{"step": f"connector {name}", "action": f"{action}, {state}"}])


def wait_running(client: ConnectLayer, name: str, wait_s: float = 60.0) -> str:
    """Wait until the connector and its task are RUNNING; a FAILED task raises."""
    deadline = time.monotonic() + wait_s
    state = "UNASSIGNED"
    while time.monotonic() < deadline:
        try:
            status = client.status(name)
        except Exception:  # noqa: BLE001 - status not there yet right after creation
            time.sleep(0.5)
            continue
        tasks = status.get("tasks", [])
        states = [status["connector"]["state"], *(t["state"] for t in tasks)]
        if "FAILED" in states:
            trace = next((t.get("trace", "") for t in tasks if t["state"] == "FAILED"), "")
            raise StackError(
                f"connector {name} FAILED: {trace.strip().splitlines()[0] if trace else 'see the Connect log'}",
                "see `dataops logs connect`",
            )
        if tasks and all(s == "RUNNING" for s in states):
            return "RUNNING"
        state = "/".join(states)
        time.sleep(0.5)
    raise StackError(f"connector {name} is not RUNNING after {wait_s:.0f} s ({state})", "see `dataops logs connect`")


def setup(settings: Settings) -> pd.DataFrame:
    """The course's setup-pipeline, idempotent: topics, Iceberg table, source connector,
    Flink explode job, Iceberg sink. Each step says what it did."""
    from dataops.explode_job import ensure_explode_job
    from dataops.iceberg import IcebergLayer

    frames = [ensure_topics(settings)]
    if layers.offers(settings.profile, "connect"):  # the local stack; in the cloud these are managed services
        frames.append(pd.DataFrame([{"step": f"iceberg table {settings.iceberg_table}", "action": IcebergLayer(settings).ensure_table()}]))
        frames.append(deploy_connector(settings))
        frames.append(pd.DataFrame([{"step": f"flink job {settings.flink_job_name}", "action": ensure_explode_job(settings)}]))
        frames.append(deploy_connector(settings, settings.iceberg_connector_name, iceberg_sink_config(settings)))
    return pd.concat(frames, ignore_index=True)


_NO_OP = ("exists", "unchanged", "running")


def changes(steps: pd.DataFrame) -> pd.DataFrame:
    """The :func:`setup` steps that created, updated or (re)submitted something."""
    return steps[~steps["action"].astype(str).str.startswith(_NO_OP)]


def changed(steps: pd.DataFrame) -> bool:
    """True when a :func:`setup` step created, updated or (re)submitted something."""
    return not changes(steps).empty
