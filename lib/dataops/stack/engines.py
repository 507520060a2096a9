"""The engines of the local stack: what each component runs and how it answers.

One :class:`Component` per process (simulator, Kafka, Connect, Flink's
jobmanager and taskmanager, monitor): its ports, the command line that starts it
(writing its configuration files first) and its health probe. Flink's
``config.yaml`` is written by :mod:`dataops.flink.conf`.
"""

from __future__ import annotations

import base64
import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

from dataops import subproc
from dataops.config import Settings
from dataops.errors import StackError
from dataops.stack import prometheus
from dataops.stack.artifacts import require_java
from dataops.flink.conf import FLINK_JAVA_OPTS, flink_conf_dir
from dataops.paths import StatePaths


@dataclass(frozen=True)
class Component:
    """One process of the local stack.

    Attributes:
        name: Short name used by the CLI (`dataops logs NAME`).
        port: Main port (shown by `status`).
        ports: Every port it binds.
        url: Its address (shown by `status`).
        command: Builds the command line; may write config files first.
        healthy: True when the component answers.
        start_timeout: Seconds to wait for health after start.
        java: Needs Java and the Maven artifacts.
        optional: Started only when asked for (``dataops up --with NAME``), not by a plain ``up``.
    """

    name: str
    port: int
    ports: tuple[int, ...]
    url: str
    command: Callable[[Settings, StatePaths], list[str]]
    healthy: Callable[[Settings], bool]
    start_timeout: float = 60.0
    java: bool = False
    optional: bool = False


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _properties(values: dict[str, object]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def _log4j_conf(paths: StatePaths) -> Path:
    conf = paths.conf / "log4j2.properties"
    conf.write_text(
        _properties(
            {
                "status": "warn",
                "appender.out.type": "Console",
                "appender.out.name": "OUT",
                "appender.out.layout.type": "PatternLayout",
                "appender.out.layout.pattern": "[%d] %p %m (%c{1})%n",
                "rootLogger.level": "INFO",
                "rootLogger.appenderRef.out.ref": "OUT",
                # The chatty parts of the engines; warnings still show.
                "logger.clients.name": "org.apache.kafka.clients",
                "logger.clients.level": "WARN",
                "logger.common.name": "org.apache.kafka.common",
                "logger.common.level": "WARN",
                "logger.raft.name": "org.apache.kafka.raft",
                "logger.raft.level": "WARN",
                "logger.reflections.name": "org.reflections",
                "logger.reflections.level": "ERROR",
            }
        )
    )
    return conf


def _java_cmd(paths: StatePaths, heap: str, main: str, *args: str) -> list[str]:
    return [
        require_java(),
        f"-Xmx{heap}",
        "-Xms64m",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={_log4j_conf(paths)}",
        "-cp",
        f"{paths.lib}/*",
        main,
        *args,
    ]


def _simulator_cmd(s: Settings, paths: StatePaths) -> list[str]:
    (paths.data / "simulator").mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "dataops.simulator",
        "--host", s.host,
        "--port", str(s.simulator_port),
        "--seed", str(s.simulator_seed),
        "--refresh-s", str(s.simulator_refresh_s),
        "--coins", ",".join(s.coins),
        "--log", str(paths.data / "simulator" / "served.jsonl"),
        "--log-max-mb", str(s.log_max_mb),
        "--log-backups", str(s.log_backups),
    ]  # fmt: skip


def _kafka_cmd(s: Settings, paths: StatePaths) -> list[str]:
    data = paths.data / "kafka"
    conf = paths.conf / "kafka.properties"
    conf.write_text(
        _properties(
            {
                "process.roles": "broker,controller",
                "node.id": 1,
                "controller.quorum.voters": f"1@{s.host}:{s.kafka_controller_port}",
                "listeners": f"PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                "advertised.listeners": f"PLAINTEXT://{s.host}:{s.kafka_port}",
                "controller.listener.names": "CONTROLLER",
                "inter.broker.listener.name": "PLAINTEXT",
                "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
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
            }
        )
    )
    if not (data / "meta.properties").exists():
        # Format once: a random cluster id in Kafka's base64url form.
        cluster_id = "-"
        while cluster_id.startswith("-"):  # like Kafka's Uuid: a leading '-' would parse as an option
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        out = subproc.run(
            _java_cmd(paths, "256m", "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf)),
            "formatting Kafka storage", f"delete {data} and run `make up` again", 120,
            capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode != 0:
            raise StackError(
                f"formatting Kafka storage failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}",
                f"delete {data} and run `make up` again",
            )
    return _java_cmd(paths, s.kafka_heap, "kafka.Kafka", str(conf))


def _kafka_healthy(s: Settings) -> bool:
    if not port_open(s.host, s.kafka_port):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        md = AdminClient({"bootstrap.servers": f"{s.host}:{s.kafka_port}"}).list_topics(timeout=3)
        return bool(md.brokers)
    except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
        return False


def _connect_cmd(s: Settings, paths: StatePaths) -> list[str]:
    conf = paths.conf / "connect.properties"
    conf.write_text(
        _properties(
            {
                "bootstrap.servers": f"{s.host}:{s.kafka_port}",
                "group.id": "dataops-connect",
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
                "listeners": f"http://{s.host}:{s.connect_port}",
                "rest.advertised.host.name": s.host,
                "rest.advertised.port": s.connect_port,
                "plugin.path": paths.plugins,
                "plugin.discovery": "service_load",
                # Records and source offsets are written in one transaction per poll.
                "exactly.once.source.support": "enabled",
                # A restarted single worker gets its tasks back at once, not after 5 min.
                "scheduled.rebalance.max.delay.ms": 0,
                "task.shutdown.graceful.timeout.ms": 5000,
            }
        )
    )
    return _java_cmd(paths, s.connect_heap, "org.apache.kafka.connect.cli.ConnectDistributed", str(conf))

def _flink_cmd(kind: str) -> Callable[[Settings, StatePaths], list[str]]:
    """Command line of a Flink jobmanager or taskmanager, as Flink's own scripts build it."""
    main, params = {
        "jobmanager": ("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", "GET_JM_RESOURCE_PARAMS"),
        "taskmanager": ("org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "GET_TM_RESOURCE_PARAMS"),
    }[kind]

    def build(s: Settings, paths: StatePaths) -> list[str]:
        java = require_java()
        conf_dir = flink_conf_dir(s, paths)
        lib = paths.flink_home / "lib"
        jars = sorted(str(j) for j in lib.glob("*.jar") if not j.name.startswith("flink-dist"))
        classpath = ":".join([*jars, *map(str, lib.glob("flink-dist-*.jar"))])
        # Flink's memory model turns process sizes into JVM flags and dynamic properties.
        out = subproc.run(
            [java, "-cp", f"{paths.flink_home / 'bin' / 'bash-java-utils.jar'}:{classpath}",
             "org.apache.flink.runtime.util.bash.BashJavaUtils", params, "--configDir", str(conf_dir)],
            f"Flink's memory configuration for the {kind}", f"check {conf_dir / 'config.yaml'}", 60,
            capture_output=True, text=True,
        )  # fmt: skip
        result = [ln.split(":", 1)[1] for ln in out.stdout.splitlines() if ln.startswith("BASH_JAVA_UTILS_EXEC_RESULT:")]
        if out.returncode != 0 or len(result) < 2:
            raise StackError(f"Flink memory configuration failed for the {kind}", f"check {conf_dir / 'config.yaml'}")
        jvm_flags, dynamic = result[0].split(), result[1].split()
        return [
            java, *jvm_flags, "-XX:+UseSerialGC", *FLINK_JAVA_OPTS,
            f"-Dlog4j.configurationFile=file:{_log4j_conf(paths)}",
            "-classpath", classpath, main, "--configDir", str(conf_dir), *dynamic,
        ]  # fmt: skip

    return build


def _flink_json(s: Settings, path: str) -> dict | None:
    try:
        resp = requests.get(f"{s.flink_url}{path}", timeout=2)
        return resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def components(s: Settings) -> list[Component]:
    """The local stack's components, in start order."""
    return [
        Component(
            "simulator",
            s.simulator_port,
            (s.simulator_port,),
            s.simulator_url,
            _simulator_cmd,
            lambda st: _http_ok(f"{st.simulator_url}/_sim/health"),
            start_timeout=20,
        ),
        Component(
            "kafka",
            s.kafka_port,
            (s.kafka_port, s.kafka_controller_port),
            s.bootstrap_servers if s.profile == "local" else f"{s.host}:{s.kafka_port}",
            _kafka_cmd,
            _kafka_healthy,
            start_timeout=90,
            java=True,
        ),
        Component(
            "connect",
            s.connect_port,
            (s.connect_port,),
            s.connect_url,
            _connect_cmd,
            lambda st: _http_ok(f"{st.connect_url}/connectors"),
            start_timeout=120,
            java=True,
        ),
        Component(
            "flink-jobmanager",
            s.flink_port,
            (s.flink_port, s.flink_rpc_port, s.flink_blob_port),
            s.flink_url,
            _flink_cmd("jobmanager"),
            lambda st: _flink_json(st, "/overview") is not None,
            start_timeout=90,
            java=True,
        ),
        Component(
            "flink-taskmanager",
            s.flink_taskmanager_port,
            (s.flink_taskmanager_port,),
            f"{s.host}:{s.flink_taskmanager_port}",
            _flink_cmd("taskmanager"),
            lambda st: (_flink_json(st, "/overview") or {}).get("taskmanagers", 0) > 0,
            start_timeout=90,
            java=True,
        ),
        Component(
            "monitor",
            s.monitor_port,
            (s.monitor_port,),
            f"http://{s.host}:{s.monitor_port}/metrics",
            lambda st, paths: [sys.executable, "-m", "dataops.monitor", "--interval", str(st.monitor_interval_s)],
            lambda st: _http_ok(f"http://{st.host}:{st.monitor_port}/metrics"),
            start_timeout=30,
        ),
        Component(
            "prometheus",
            s.prometheus_port,
            (s.prometheus_port,),
            f"http://{s.host}:{s.prometheus_port}",
            prometheus.command,
            prometheus.healthy,
            start_timeout=30,
            optional=True,
        ),
    ]
