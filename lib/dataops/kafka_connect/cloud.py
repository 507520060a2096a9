"""The managed connectors' worker of the cloud fixtures (``connect-cloud``, started by ``dataops up
--with cloud-fixtures``): a stand-in for the Connect cluster Confluent Cloud runs a fully managed
connector in.

On Confluent Cloud the HTTP source and Tableflow are services the user switches on; their Kafka
clients are inside the cloud, logged in to the cluster with an API key. Here one more Connect worker
plays that part: a distributed worker whose own clients, and those it makes for its connectors
(``producer.``, ``consumer.``, ``admin.``), reach the fixtures' SASL_SSL broker (:mod:`dataops.kafka.sasl`)
with its key and secret, trusting its CA: exactly :func:`dataops.kafka.security.connect_worker` for
the ``confluent`` profile's settings. Its internal topics live on that broker, so the connectors'
offsets and configs are on "the cloud cluster", apart from the local pipeline's.

Its properties file holds the secret (mode 600); a connector's config holds none (the Iceberg sink's
coordinator reads the worker's file for its own clients), so reading a config back shows no secret.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from dataops.config import ENV_PREFIX, Settings
from dataops.engine import Component, http_ok, java_cmd, stack_jvm_flags, properties
from dataops.iceberg import engine as iceberg_engine
from dataops.kafka_connect import engine
from dataops.kafka import sasl
from dataops.paths import StatePaths, write_private

NAME = "connect-cloud"
GROUP = "dataops-connect-cloud"
HEAP, LOW_MEMORY_HEAP = "320m", "192m"


def url(s: Settings) -> str:
    return f"http://{s.host}:{s.connect_cloud_port}"


def config_file(paths: StatePaths) -> Path:
    return paths.conf / f"{NAME}.properties"


def confluent_settings(s: Settings) -> Settings:
    """``s`` in the ``confluent`` profile on the fixtures' broker (the key and secret it made)."""
    fields: dict[str, object] = {k.removeprefix(ENV_PREFIX).lower(): v for k, v in sasl.client_settings(s).items()}
    for secret in ("kafka_api_key", "kafka_api_secret"):
        fields[secret] = SecretStr(str(fields[secret]))
    fields["kafka_ca_file"] = Path(str(fields["kafka_ca_file"]))
    return s.model_copy(update=fields)


def worker_properties(s: Settings, paths: StatePaths) -> dict[str, object]:
    """The worker's properties: the local worker's shape, on the fixtures' broker over SASL_SSL."""
    from dataops.kafka.security import connect_worker

    cloud = confluent_settings(s)
    own = engine.worker_properties(s, paths, bootstrap=str(cloud.kafka_bootstrap), group=GROUP, port=s.connect_cloud_port)
    return {**own, **connect_worker(cloud)}


def command(s: Settings, paths: StatePaths) -> list[str]:
    conf = config_file(paths)
    write_private(conf, properties(worker_properties(s, paths)))
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return java_cmd(paths, heap, "org.apache.kafka.connect.cli.ConnectDistributed", str(conf),
                    jvm_flags=stack_jvm_flags(s, "192m", "64m", hot=True))  # fmt: skip


def healthy(s: Settings) -> bool:
    return http_ok(f"{url(s)}/connectors")


def components(s: Settings) -> list[Component]:
    """The optional worker, as a component of the local stack (started only when asked for; after the broker
    and the catalog when they start with it: else the sink's task fails on a catalog not up yet)."""
    return [
        Component(NAME, s.connect_cloud_port, (s.connect_cloud_port,), url(s), command, healthy,
                  start_timeout=120, java=True, optional=True, after=(sasl.NAME, iceberg_engine.BACKEND)),
    ]  # fmt: skip
