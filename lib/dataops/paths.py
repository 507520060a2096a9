"""The one state-paths object: the layout of the ignored state folder (``<state_dir>``).

Everything the running stack writes lives under it: downloads, pid files, logs, engine
data, the metrics store, the alert log. Every module asks :class:`StatePaths` (or
``settings.paths``) for a path instead of joining its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Defined here rather than with the other jar names (artifacts.py) because
# StatePaths.flink_connector_jar needs it and artifacts imports this module.
FLINK_KAFKA_JAR = "flink-sql-connector-kafka-5.0.0-2.2.jar"
FLINK_UDF_JAR = "dataops-flink-udf-1.0.0.jar"  # the explode job's JSON_MEMBERS and AVRO_POLL (lib/stack/flink-udf)
FLINK_AVRO_JAR = "flink-sql-avro-confluent-registry-2.2.0.jar"  # the avro-confluent format (DATAOPS_TOPIC_FORMAT=avro)


@dataclass(frozen=True)
class StatePaths:
    """Folders of the ignored state directory."""

    root: Path
    metrics: Path | None = None  # the metrics store's folder, when not <root>/data/metrics (a class's monitor's)

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def class_archives(self) -> Path:
        """The JVMs' class-data archives (:mod:`dataops.class_archive`)."""
        return self.root / "cds"

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
    def flink_udf_jar(self) -> Path:
        return self.root / "flink" / "connectors" / FLINK_UDF_JAR

    @property
    def flink_avro_jar(self) -> Path:
        return self.root / "flink" / "connectors" / FLINK_AVRO_JAR

    @property
    def iceberg(self) -> Path:
        """The Iceberg catalog (``catalog.db``) and warehouse."""
        return self.data / "iceberg"

    @property
    def metrics_db(self) -> Path:
        """The monitor's metrics store (SQLite)."""
        return (self.metrics or self.data / "metrics") / "metrics.db"

    @property
    def own_metrics_db(self) -> Path | None:
        """Where this session writes metrics of its own when the store is someone else's (a class's
        monitor's): ``<root>/data/metrics/metrics.db``; None when the store is in this folder."""
        return None if self.metrics is None else self.data / "metrics" / "metrics.db"

    @property
    def flink_checkpoints(self) -> Path:
        return self.data / "flink" / "checkpoints"

    @property
    def alert_log(self) -> Path:
        """Every fired and resolved alert, one JSON line each."""
        return self.root / "alerts" / "alerts.jsonl"

    @property
    def last_up(self) -> Path:
        """How long the last ``up`` took, and how many components it started (JSON)."""
        return self.run / "last-up.json"

    @property
    def changed_marker(self) -> Path:
        """When the pipeline set-up last changed something (a UNIX time)."""
        return self.run / "pipeline-changed"

    @property
    def applied(self) -> Path:
        """What the last ``pipeline apply`` declared, per resource (JSON): tells drift from an update."""
        return self.run / "pipeline-applied.json"

    @property
    def schema_registry(self) -> Path:
        """The optional Schema Registry's configuration and credentials (its database is under ``data``)."""
        return self.root / "schema-registry"

    @property
    def schema_registry_credentials(self) -> Path:
        """The key and secret the running local Schema Registry accepts (JSON, mode 600)."""
        return self.schema_registry / "credentials.json"

    @property
    def kafka_sasl(self) -> Path:
        """The optional SASL_SSL broker's CA, keystores, key and secret and client settings (all mode 600)."""
        return self.root / "kafka-sasl"

    @property
    def classroom(self) -> Path:
        """A class server's roster, its broker's admin password and each learner's settings (mode 600)."""
        return self.root / "class"

    @property
    def tableflow(self) -> Path:
        """The optional Tableflow-shaped catalog's identity, secrets and client settings (mode 600)."""
        return self.root / "tableflow"

    @property
    def iceberg_rest(self) -> Path:
        """The optional Iceberg REST catalog server's classpath (``lib``); its catalog is under ``data``."""
        return self.root / "iceberg-rest"

    def lock_file(self, name: str) -> Path:
        """An exclusive lock (:mod:`dataops.locks`), e.g. ``pipeline`` for ``up`` and ``apply``."""
        return self.run / f"{name}.lock"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.json"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def make(self) -> None:
        for d in (self.run, self.logs, self.data, self.conf):
            d.mkdir(parents=True, exist_ok=True)


def file_uri(path: Path) -> str:
    """``path`` as the ``file://`` location the engines are given (Flink's checkpoints, the Iceberg
    warehouse): the absolute path as is, spaces and accents unescaped.

    Flink's and Hadoop's ``Path(String)`` and pyiceberg read such a location back as that very
    path; the percent-escapes of ``Path.as_uri()`` (``Jos%C3%A9%20P%C3%A9rez``) they would
    take literally, writing into a folder of that name instead.
    """
    return f"file://{Path(path).absolute()}"


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to a file only its owner can read (mode 600: a secret is in it), creating its
    folder. The file is never readable by others, not even for a moment: it is created with that mode,
    and an older file of another mode gets it too (``O_TRUNC`` keeps a file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return path


def last_lines(path: Path, n: int) -> str:
    """The last ``n`` lines of a log file on one line (for an error message)."""
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return " | ".join(line.strip()[:200] for line in lines[-n:])
