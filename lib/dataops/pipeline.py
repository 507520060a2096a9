"""The course's "setup-pipeline" automation: topics and connector, idempotently."""

from __future__ import annotations

import logging
import time

import pandas as pd

from dataops.config import Settings
from dataops.connect import ConnectClient
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


def ensure_topics(settings: Settings) -> pd.DataFrame:
    kafka = KafkaLayer(settings)
    rows = []
    for name, (partitions, config) in topic_specs(settings).items():
        action = kafka.ensure_topic(name, partitions, config)
        rows.append({"step": f"topic {name}", "action": action})
    return pd.DataFrame(rows)


def deploy_connector(settings: Settings, wait_s: float = 60.0) -> pd.DataFrame:
    """Create or update the source connector and wait until its task runs."""
    if settings.profile != "local":
        raise ConfigError(
            "the confluent profile uses Confluent Cloud's managed HTTP Source connector",
            "create it in Confluent Cloud; `dataops pipeline setup` only creates its topics there",
        )
    client = ConnectClient(settings.connect_url)
    name = settings.connector_name
    wanted = connector_config(settings)
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


def wait_running(client: ConnectClient, name: str, wait_s: float = 60.0) -> str:
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
    """Idempotently create the topics and deploy the connector (the course's setup-pipeline)."""
    frames = [ensure_topics(settings)]
    if settings.profile == "local":
        frames.append(deploy_connector(settings))
    return pd.concat(frames, ignore_index=True)
