"""The local stack: real engines started as native processes, no Docker.

Every component is a child process detached into its own session, with a pid
file under ``<state_dir>/run``, a log under ``<state_dir>/logs`` and its data
under ``<state_dir>/data``. :meth:`Stack.up` is idempotent and starts only what
is not running; :meth:`Stack.down` stops only the processes whose pid files it
wrote (pid and start time must both match, so a recycled pid is never killed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
import psutil
import requests

from dataops.config import PROJECT_ROOT, Settings
from dataops.errors import PortInUseError, StackError, ToolMissingError

logger = logging.getLogger(__name__)

KAFKA_JAR = "kafka_2.13-4.4.0.jar"
HTTP_SOURCE_JAR = "dataops-http-source-1.0.0.jar"
ICEBERG_SINK_JARS = ("iceberg-kafka-connect-1.12.0.jar", "kafka44-appinfoparser-shim-1.0.0.jar")
FLINK_KAFKA_JAR = "flink-sql-connector-kafka-5.0.0-2.2.jar"
# The Flink distribution ships inside these PyPI wheels; installed without their
# Python dependencies (the project only submits SQL jobs, no Python workers).
FLINK_WHEELS = ("apache-flink==2.2.1", "apache-flink-libraries==2.2.1")


# --------------------------------------------------------------------------
# State folder layout
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class StatePaths:
    """Folders of the ignored state directory."""

    root: Path

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def flink_python(self) -> Path:
        """Where the Flink wheels are installed (put on PYTHONPATH to import pyflink)."""
        return self.root / "flink" / "python"

    @property
    def flink_home(self) -> Path:
        return self.flink_python / "pyflink"

    @property
    def flink_connector_jar(self) -> Path:
        return self.root / "flink" / "connectors" / FLINK_KAFKA_JAR

    @property
    def changed_marker(self) -> Path:
        """When the pipeline set-up last changed something (a UNIX time)."""
        return self.run / "pipeline-changed"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.json"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def make(self) -> None:
        for d in (self.run, self.logs, self.data, self.conf):
            d.mkdir(parents=True, exist_ok=True)


# --------------------------------------------------------------------------
# Tools and artifacts
# --------------------------------------------------------------------------
def java_version() -> str | None:
    """The ``java -version`` banner's first line, or None when Java is missing."""
    java = shutil.which("java")
    if not java:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    lines = (out.stderr or out.stdout).strip().splitlines()
    return lines[0] if lines else "java (unknown version)"


def require_java() -> str:
    java = shutil.which("java")
    if not java:
        raise ToolMissingError(
            "java is not installed",
            "install OpenJDK 17 (`conda env create -f environment.yml` or `apt-get install openjdk-17-jdk-headless`)",
        )
    return java


def _jars(paths: StatePaths) -> list[Path]:
    return [
        paths.lib / KAFKA_JAR,
        paths.plugins / "http-source" / HTTP_SOURCE_JAR,
        *(paths.plugins / "iceberg-sink" / jar for jar in ICEBERG_SINK_JARS),
        paths.flink_connector_jar,
    ]


def _maven_inputs_digest() -> str:
    """Digest of the poms and Java sources: a change rebuilds the JVM side."""
    files = [PROJECT_ROOT / "pom.xml", *sorted((PROJECT_ROOT / "lib").glob("**/pom.xml"))]
    files += sorted(f for f in (PROJECT_ROOT / "lib").glob("**/src/**/*") if f.is_file())
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(PROJECT_ROOT)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def _maven_stamp(paths: StatePaths) -> Path:
    return paths.root / "build" / "maven-inputs.sha256"


def _jvm_side_current(paths: StatePaths) -> bool:
    stamp = _maven_stamp(paths)
    return all(j.exists() for j in _jars(paths)) and stamp.exists() and stamp.read_text() == _maven_inputs_digest()


def _flink_installed(paths: StatePaths) -> bool:
    return any((paths.flink_home / "lib").glob("flink-dist-*.jar"))


def artifacts_present(paths: StatePaths) -> bool:
    """True when every JVM artifact (built from the current poms) and the Flink distribution are there."""
    return _jvm_side_current(paths) and _flink_installed(paths)


def _run_logged(cmd: list[str], log: Path, what: str, hint: str) -> None:
    with log.open("w") as fh:
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT).returncode
    if rc != 0:
        raise StackError(f"{what} failed ({_last_lines(log, 3)})", f"see {log}; {hint}")


def install_artifacts(paths: StatePaths, quiet: bool = False) -> None:
    """Fetch the JVM artifacts from Maven Central, build the project's jars (``mvn package``)
    and install the Flink distribution from PyPI; each step only when needed."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise ToolMissingError(
            "mvn (Apache Maven) is not installed",
            "install it (`conda env create -f environment.yml` or `apt-get install maven`), then run `make up`",
        )
    require_java()
    paths.logs.mkdir(parents=True, exist_ok=True)
    if not _jvm_side_current(paths):
        if not quiet:
            print("Fetching Kafka, Connect, the Iceberg sink and Flink's Kafka connector from Maven Central…", flush=True)
        cmd = [mvn, "-B", "-q", "-f", str(PROJECT_ROOT / "pom.xml"), f"-Dstack.dir={paths.root}", "package"]
        _run_logged(cmd, paths.log_file("mvn"), "mvn package", "check access to Maven Central")
        _maven_stamp(paths).parent.mkdir(parents=True, exist_ok=True)
        _maven_stamp(paths).write_text(_maven_inputs_digest())
    if not _flink_installed(paths):
        if not quiet:
            print("Installing the Flink distribution from PyPI (first run only, ~300 MB)…", flush=True)
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
               "--target", str(paths.flink_python), *FLINK_WHEELS]  # fmt: skip
        _run_logged(cmd, paths.log_file("pip-flink"), "installing Flink", "check access to PyPI")
    if not artifacts_present(paths):
        raise StackError("the JVM artifacts are incomplete after installing", f"delete {paths.root} and run `make up`")


# --------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Component:
    """One process of the local stack.

    Attributes:
        name: Short name used by the CLI (`dataops logs NAME`).
        port: Main port (shown by `status`).
        ports: Every port it binds.
        command: Builds the command line; may write config files first.
        healthy: True when the component answers.
        start_timeout: Seconds to wait for health after start.
        java: Needs Java and the Maven artifacts.
    """

    name: str
    port: int
    ports: tuple[int, ...]
    url: str
    command: Callable[[Settings, StatePaths], list[str]]
    healthy: Callable[[Settings], bool]
    start_timeout: float = 60.0
    java: bool = False


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
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
        out = subprocess.run(
            _java_cmd(paths, "256m", "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode != 0:
            raise StackError(
                f"formatting Kafka storage failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}",
                f"delete {data} and run `make up` again",
            )
    return _java_cmd(paths, s.kafka_heap, "kafka.Kafka", str(conf))


def _kafka_healthy(s: Settings) -> bool:
    if not _port_open(s.host, s.kafka_port):
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
                "offset.flush.interval.ms": 1000,
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


FLINK_JAVA_OPTS = [
    # The module opens Flink 2.x needs on Java 17 (env.java.opts.all of its stock config).
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    *(
        f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
        for pkg in (
            "java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect", "java.text",
            "java.time", "java.util", "java.util.concurrent", "java.util.concurrent.atomic",
            "java.util.concurrent.locks",
        )
    ),
]  # fmt: skip


def flink_conf_dir(s: Settings, paths: StatePaths) -> Path:
    """Write Flink's config.yaml and log4j config; returns the folder."""
    import yaml

    conf_dir = paths.conf / "flink"
    conf_dir.mkdir(parents=True, exist_ok=True)
    data = paths.data / "flink"
    config = {
        "jobmanager": {
            "bind-host": s.host,
            "rpc": {"address": s.host, "port": s.flink_rpc_port},
            "memory": {"process": {"size": s.flink_jobmanager_memory}},
            "execution": {"failover-strategy": "region"},
        },
        "taskmanager": {
            "bind-host": s.host,
            "host": s.host,
            "rpc": {"port": s.flink_taskmanager_port},
            "numberOfTaskSlots": 2,
            "memory": {
                "process": {"size": s.flink_taskmanager_memory},
                "managed": {"size": "64m"},  # hashmap state + pure SQL: managed memory unused
                "jvm-metaspace": {"size": "192m"},
            },
        },
        "parallelism": {"default": 1},
        "rest": {"address": s.host, "bind-address": s.host, "port": s.flink_port},
        "blob": {"server": {"port": s.flink_blob_port}},
        # A killed taskmanager is noticed in seconds, not the default 50 s.
        "heartbeat": {"interval": 2000, "timeout": 10000},
        "state": {"backend": {"type": "hashmap"}},
        "execution": {
            "checkpointing": {
                "dir": (data / "checkpoints").as_uri(),
                "savepoint-dir": (data / "savepoints").as_uri(),
                "externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
                "num-retained": 3,
            }
        },
        "restart-strategy": {
            "type": "exponential-delay",
            "exponential-delay": {
                "initial-backoff": "1s",
                "max-backoff": "30s",
                "backoff-multiplier": 2.0,
                "reset-backoff-threshold": "5min",
                "attempts-before-reset-backoff": 1000000,
            },
        },
        "io": {"tmp": {"dirs": str(data / "tmp")}},
        "web": {"tmpdir": str(data / "web"), "upload": {"dir": str(data / "web-upload")}},
    }
    for sub in ("checkpoints", "savepoints", "tmp", "web", "web-upload"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    (conf_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return conf_dir


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
        out = subprocess.run(
            [java, "-cp", f"{paths.flink_home / 'bin' / 'bash-java-utils.jar'}:{classpath}",
             "org.apache.flink.runtime.util.bash.BashJavaUtils", params, "--configDir", str(conf_dir)],
            capture_output=True, text=True, timeout=60,
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
    ]


# --------------------------------------------------------------------------
# Process bookkeeping
# --------------------------------------------------------------------------
def _last_lines(path: Path, n: int) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return " | ".join(line.strip()[:200] for line in lines[-n:])


def _fmt_uptime(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Stack:
    """Start, stop and inspect the local stack.

    Args:
        settings: The loaded settings (profile ``local``).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = StatePaths(Path(settings.state_dir))
        self._components = {c.name: c for c in components(settings)}

    # ---- lookup ----------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self._components)

    def component(self, name: str) -> Component:
        try:
            return self._components[name]
        except KeyError:
            raise StackError(f"unknown component '{name}'", f"choose one of: {', '.join(self.names)}") from None

    def _record(self, name: str) -> dict | None:
        path = self.paths.pid_file(name)
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def process(self, name: str) -> psutil.Process | None:
        """The live process this stack started for ``name``, or None."""
        rec = self._record(name)
        if not rec:
            return None
        try:
            proc = psutil.Process(rec["pid"])
            if abs(proc.create_time() - rec["create_time"]) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError):
            return None

    def mark_changed(self) -> None:
        """Record that the pipeline set-up just changed something (see :meth:`last_change`)."""
        self.paths.run.mkdir(parents=True, exist_ok=True)
        self.paths.changed_marker.write_text(f"{time.time()}\n")

    def last_change(self) -> float | None:
        """UNIX time of the newest component start or pipeline change: from then on, every
        layer should report (None when nothing runs)."""
        starts = [rec.get("started_at") for name in self.names if self.process(name) and (rec := self._record(name))]
        try:
            starts.append(float(self.paths.changed_marker.read_text()))
        except (FileNotFoundError, ValueError):
            pass
        starts = [float(t) for t in starts if t]
        return max(starts) if starts else None

    def pid(self, name: str) -> int | None:
        proc = self.process(name)
        return proc.pid if proc else None

    # ---- start -------------------------------------------------------------
    def up(self, names: Iterable[str] | None = None, progress: bool = True) -> pd.DataFrame:
        """Start every component that is not running and wait until healthy.

        Idempotent: running components are left alone. Returns :meth:`status`.

        Raises:
            PortInUseError: A port is taken by a process this stack did not start.
            ToolMissingError: Java or Maven is missing.
            StackError: A component exited or did not become healthy in time.
        """
        wanted = [self.component(n) for n in (names or self.names)]
        self.paths.make()
        if any(c.java for c in wanted):
            require_java()
            if not artifacts_present(self.paths):
                install_artifacts(self.paths, quiet=not progress)
        for comp in wanted:
            t0 = time.monotonic()
            if self.process(comp.name):
                self._wait_healthy(comp)
                if progress:
                    print(f"  ✔ {comp.name:<10} already running (pid {self.pid(comp.name)})", flush=True)
                continue
            self.paths.pid_file(comp.name).unlink(missing_ok=True)
            for port in comp.ports:
                if _port_open(self.settings.host, port):
                    raise PortInUseError(comp.name, port)
            if progress:
                print(f"  … {comp.name:<10} starting on port {comp.port}", flush=True)
            self._start(comp)
            self._wait_healthy(comp)
            if progress:
                print(f"  ✔ {comp.name:<10} healthy in {time.monotonic() - t0:.1f} s", flush=True)
        return self.status()

    def _start(self, comp: Component) -> None:
        cmd = comp.command(self.settings, self.paths)
        log = self.paths.log_file(comp.name)
        if log.exists() and log.stat().st_size > 50 * 2**20:
            log.replace(log.with_suffix(".log.1"))
        env = {**os.environ, **self.settings.as_env()}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT / "lib"), env.get("PYTHONPATH")]))
        with log.open("a") as fh:
            fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {comp.name} =====\n")
            fh.flush()
            proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.paths.root,
                env=env,
                start_new_session=True,  # survives the CLI / notebook that started it
            )
        rec = {
            "pid": proc.pid,
            "create_time": psutil.Process(proc.pid).create_time(),
            "started_at": time.time(),
            "ports": list(comp.ports),
            "cmd": cmd,
        }
        self.paths.pid_file(comp.name).write_text(json.dumps(rec))

    def _wait_healthy(self, comp: Component) -> None:
        deadline = time.monotonic() + comp.start_timeout
        while time.monotonic() < deadline:
            if comp.healthy(self.settings):
                return
            if not self.process(comp.name):
                self.paths.pid_file(comp.name).unlink(missing_ok=True)
                raise StackError(
                    f"{comp.name} exited during start-up ({_last_lines(self.paths.log_file(comp.name), 1)})",
                    f"see `dataops logs {comp.name}`",
                )
            time.sleep(0.3)
        raise StackError(
            f"{comp.name} did not become healthy within {comp.start_timeout:.0f} s",
            f"see `dataops logs {comp.name}`, then `make down && make up`",
        )

    # ---- stop --------------------------------------------------------------
    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Stop one component this stack started. ``SIGKILL`` simulates a crash.

        Returns:
            True when a process was stopped.
        """
        self.component(name)
        proc = self.process(name)
        if proc is None:
            self.paths.pid_file(name).unlink(missing_ok=True)
            return False
        try:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except psutil.TimeoutExpired:
                logger.warning("%s did not stop within %.0f s; killing it", name, timeout)
                proc.kill()
                proc.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass
        self.paths.pid_file(name).unlink(missing_ok=True)
        return True

    def down(self, progress: bool = True) -> list[str]:
        """Stop, in reverse order, every component this stack started."""
        stopped = []
        for name in reversed(self.names):
            if self.stop(name):
                stopped.append(name)
                if progress:
                    print(f"  ✔ {name:<10} stopped", flush=True)
        if progress and not stopped:
            print("  nothing to stop: no component started by this project is running", flush=True)
        return stopped

    # ---- inspect -----------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """One row per component: pid, port, health, uptime, address."""
        rows = []
        for comp in self._components.values():
            proc = self.process(comp.name)
            rec = self._record(comp.name) if proc else None
            healthy = comp.healthy(self.settings)
            if proc and healthy:
                health = "up"
            elif proc:
                health = "starting" if time.time() - rec["started_at"] < comp.start_timeout else "unhealthy"
            elif healthy:
                health = "up (not started by this project)"
            else:
                health = "down"
            rows.append(
                {
                    "component": comp.name,
                    "pid": proc.pid if proc else None,
                    "port": comp.port,
                    "health": health,
                    "uptime": _fmt_uptime(time.time() - rec["started_at"]) if rec else "",
                    "address": comp.url,
                }
            )
        return pd.DataFrame(rows).astype({"pid": "Int64"})

    def logs(self, name: str, lines: int = 50) -> str:
        """The last ``lines`` lines of a component's log (or of ``flink-submit`` / ``mvn``)."""
        if name not in ("flink-submit", "mvn", "pip-flink"):
            self.component(name)
        path = self.paths.log_file(name)
        if not path.exists():
            return f"(no log yet for {name}: it has not been started)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each running component (with its children), in MB."""
        out = {}
        for name in self.names:
            proc = self.process(name)
            if proc:
                procs = [proc, *proc.children(recursive=True)]
                out[name] = sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
        return out
