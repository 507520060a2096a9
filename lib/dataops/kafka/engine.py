"""The Kafka broker's local start: one KRaft node (broker and controller), its storage formatted once."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any, Mapping

from dataops import subproc
from dataops.config import Settings
from dataops.engine import Component, java_cmd, stack_jvm_flags, port_open, properties
from dataops.errors import StackError
from dataops.paths import StatePaths

LOW_MEMORY_DEDUPE_BUFFER = 8 * 2**20  # bytes: about 350,000 keys per cleaning pass
BROKER_SESSION_TIMEOUT_MS = 7 * 24 * 3600 * 1000  # the pipeline's node does not fence its own broker (below)
KAFKA_SESSION_TIMEOUT_MS = 9000  # Kafka's default


def session_timeout_ms(data: Path) -> int:
    """``broker.session.timeout.ms`` of the pipeline's single node for this start.

    Its controller fences its own broker when a heartbeat is this late. A laptop that slept had every
    partition leaderless for a moment on waking: a transaction aborted then was marked complete with
    no abort marker written, and the next commit under the same producer id committed its rows too
    (the explode job's rows twice). With one broker, fencing it moves nothing anywhere: a week.
    But a broker killed (``kill -9``, a crash) leaves its registration behind, and the controller
    refuses the restarted one until that session expires: the start after an unclean stop (Kafka's
    clean-shutdown marker missing from storage that holds a cluster) keeps Kafka's 9 s.
    """
    clean = (data / ".kafka_cleanshutdown").exists() or not (data / "__cluster_metadata-0").exists()
    return BROKER_SESSION_TIMEOUT_MS if clean else KAFKA_SESSION_TIMEOUT_MS


def node_properties(s: Settings, data: Path, controller_port: int) -> dict[str, object]:
    """What every KRaft single node of the stack shares (broker and controller in one process):
    storage, replication of one, small thread pools. The listeners are each broker's own."""
    return {
        "process.roles": "broker,controller",
        "node.id": 1,
        "controller.quorum.voters": f"1@{s.host}:{controller_port}",
        "controller.listener.names": "CONTROLLER",
        "log.dirs": data,
        "num.partitions": 1,
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 3,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        "num.io.threads": 2,
        "num.network.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "log.retention.check.interval.ms": 300000,
        # The compaction's key map is allocated whole on the heap (128 MB by default); a
        # smaller one cleans the compacted topics in more passes.
        **({"log.cleaner.dedupe.buffer.size": LOW_MEMORY_DEDUPE_BUFFER} if s.low_memory else {}),
    }


def format_once(paths: StatePaths, data: Path, conf: Path, cluster_id: str | None = None) -> None:
    """Format a node's storage the first time it starts: a random cluster id in Kafka's base64url
    form (or ``cluster_id``: a node joining another's cluster).

    Raises:
        StackError: The storage tool failed (one line: its last line, and what to delete).
    """
    if (data / "meta.properties").exists():
        return
    while cluster_id is None or cluster_id.startswith("-"):  # like Kafka's Uuid: a leading '-' would parse as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    out = subproc.run(
        java_cmd(paths, "256m", "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf)),
        "el formateo del almacenamiento de Kafka", f"borra {data} y vuelve a ejecutar `make up`", 120,
        capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise StackError(
            f"falló el formateo del almacenamiento de Kafka: {(out.stderr or out.stdout).strip().splitlines()[-1:]}",
            f"borra {data} y vuelve a ejecutar `make up`",
        )


def _kafka_cmd(s: Settings, paths: StatePaths) -> list[str]:
    data = paths.data / "kafka"
    conf = paths.conf / "kafka.properties"
    conf.write_text(
        properties(
            {
                **node_properties(s, data, s.kafka_controller_port),
                "listeners": f"PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                "advertised.listeners": f"PLAINTEXT://{s.host}:{s.kafka_port}",
                "inter.broker.listener.name": "PLAINTEXT",
                "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "broker.session.timeout.ms": session_timeout_ms(data),
            }
        )
    )
    format_once(paths, data, conf)
    return java_cmd(paths, s.kafka_heap, "kafka.Kafka", str(conf), jvm_flags=stack_jvm_flags(s, "128m", "64m"))


def broker_answers(host: str, port: int, config: Mapping[str, Any]) -> bool:
    """Whether a broker listens on ``port`` and a client with ``config`` gets its metadata (a health check)."""
    if not port_open(host, port):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        return bool(AdminClient({"bootstrap.servers": f"{host}:{port}", **config}).list_topics(timeout=3).brokers)
    except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
        return False


def _kafka_healthy(s: Settings) -> bool:
    return broker_answers(s.host, s.kafka_port, {})


def components(s: Settings) -> list[Component]:
    """The broker, as a component of the local stack."""
    return [
        Component(
            "kafka",
            s.kafka_port,
            (s.kafka_port, s.kafka_controller_port),
            f"{s.host}:{s.kafka_port}",
            _kafka_cmd,
            _kafka_healthy,
            start_timeout=90,
            java=True,
            after=(),
        ),
    ]
