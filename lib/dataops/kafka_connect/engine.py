"""The Kafka Connect worker's local start: one distributed-mode worker with the project's plugins."""

from __future__ import annotations

from dataops.config import Settings
from dataops.engine import Component, http_ok, java_cmd, stack_jvm_flags, properties
from dataops.paths import StatePaths


def worker_properties(s: Settings, paths: StatePaths, *, bootstrap: str, group: str, port: int) -> dict[str, object]:
    """A distributed worker's properties with the project's plugins: the local worker's, and (on its
    own broker) the cloud fixtures' :mod:`dataops.kafka_connect.cloud`."""
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "config.storage.topic": "_connect-configs",
        "offset.storage.topic": "_connect-offsets",
        "status.storage.topic": "_connect-status",
        "config.storage.replication.factor": 1,
        "offset.storage.replication.factor": 1,
        "status.storage.replication.factor": 1,
        "offset.storage.partitions": 1,
        "status.storage.partitions": 1,
        # A sink task is called at least this often even without records: the Iceberg
        # sink answers its coordinator's commit request then, so this bounds each commit.
        "offset.flush.interval.ms": 250,
        "listeners": f"http://{s.host}:{port}",
        "rest.advertised.host.name": s.host,
        "rest.advertised.port": port,
        "plugin.path": paths.plugins,
        "plugin.discovery": "service_load",
        # Records and source offsets are written in one transaction per poll.
        "exactly.once.source.support": "enabled",
        # A restarted single worker gets its tasks back at once, not after 5 min.
        "scheduled.rebalance.max.delay.ms": 0,
        "task.shutdown.graceful.timeout.ms": 5000,
        # A connector names a secret (the registry's login) as ${file:<path>:<key>}, never in its config.
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        # A source task's transaction lasts milliseconds, but a laptop put to sleep inside one
        # wakes up with it older than the producer's timeout (1 min by default): the broker
        # aborts it and the task fails. As long as the broker allows (15 min by default).
        "producer.transaction.timeout.ms": 900000,
    }


def _connect_cmd(s: Settings, paths: StatePaths) -> list[str]:
    conf = paths.conf / "connect.properties"
    conf.write_text(properties(worker_properties(s, paths, bootstrap=f"{s.host}:{s.kafka_port}", group="dataops-connect", port=s.connect_port)))
    return java_cmd(paths, s.connect_heap, "org.apache.kafka.connect.cli.ConnectDistributed", str(conf),
                    jvm_flags=stack_jvm_flags(s, "192m", "64m", hot=True))


def _connect_healthy(s: Settings) -> bool:
    return http_ok(f"{s.connect_url}/connectors")


def components(s: Settings) -> list[Component]:
    """The Connect worker, as a component of the local stack."""
    return [
        Component(
            "connect",
            s.connect_port,
            (s.connect_port,),
            s.connect_url,
            _connect_cmd,
            _connect_healthy,
            start_timeout=120,
            java=True,
            after=("kafka",),
        ),
    ]
