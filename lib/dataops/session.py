"""One entry point: ``connect()`` builds every layer's client from the settings."""

from __future__ import annotations

import platform
import shutil
import sys
from typing import Any

import pandas as pd

from dataops.config import Settings, load_settings
from dataops.connect import ConnectClient
from dataops.duck import DuckLayer
from dataops.flink import FlinkClient
from dataops.iceberg import IcebergLayer
from dataops.errors import ConfigError, DataOpsError
from dataops.kafka import KafkaLayer
from dataops.monitor import Monitor
from dataops.schema_registry import SchemaRegistryLayer
from dataops.monitor import health as monitor_health
from dataops import pipeline as _pipeline
from dataops import stack as _stack


class _LocalOnly:
    """Stands in for a layer the active profile does not offer: any use is one clear line."""

    def __init__(self, layer: str, hint: str) -> None:
        self._layer = layer
        self._hint = hint

    def __getattr__(self, name: str):
        raise ConfigError(f"{self._layer} is not inspected in the 'confluent' profile", self._hint)

    def __repr__(self) -> str:
        return f"<{self._layer}: local profile only>"


class Pipeline:
    """The pipeline of the active profile, one attribute per layer.

    Attributes:
        settings: The loaded :class:`~dataops.config.Settings`.
        source: Client of the CoinGecko API (the simulator in the local profile).
        kafka: The Kafka layer.
        connect: The Kafka Connect REST client.
        flink: The Flink REST client.
        iceberg: The Iceberg catalog and tables (Tableflow's REST catalog in ``confluent``).
        schema_registry: Subjects and schemas (``confluent`` profile).
    """

    def __init__(self, settings: Settings) -> None:
        from dataops.source import SimulatorClient

        self.settings = settings
        self.source = SimulatorClient(settings.simulator_url)
        self.kafka = KafkaLayer(settings)
        self.connect = ConnectClient(settings.connect_url)
        self.flink = FlinkClient(settings.flink_url, job_name=settings.flink_job_name)
        self.iceberg = IcebergLayer(settings)
        self.schema_registry = SchemaRegistryLayer(settings)
        if settings.profile == "confluent":
            # Kafka is read from Confluent Cloud with the same calls; these layers are cloud services.
            cloud = "use the Confluent Cloud console, or DATAOPS_PROFILE=local for the local pipeline"
            self.source = _LocalOnly("the CoinGecko simulator", cloud)  # type: ignore[assignment]
            self.connect = _LocalOnly("Kafka Connect (managed connectors)", cloud)  # type: ignore[assignment]
            self.flink = _LocalOnly("Flink (Confluent Cloud Flink statements)", cloud)  # type: ignore[assignment]
        self._duck: DuckLayer | None = None
        self._monitor: Monitor | None = None
        self._stack = _stack.Stack(settings) if settings.profile == "local" else None

    def __repr__(self) -> str:
        return f"Pipeline(profile={self.settings.profile!r}, kafka={self.settings.bootstrap_servers!r})"

    @property
    def stack(self) -> _stack.Stack:
        if self._stack is None:
            raise ConfigError(
                "the local stack is not used by the 'confluent' profile",
                "set DATAOPS_PROFILE=local to run the pipeline on this machine",
            )
        return self._stack

    @property
    def duck(self) -> DuckLayer:
        """DuckDB with the Iceberg table queryable by name (opened on first use)."""
        if self.settings.profile != "local":
            raise ConfigError(
                "DuckDB reads the local Iceberg table only",
                "in the confluent profile use p.iceberg.read(name) (pyiceberg over Tableflow's catalog)",
            )
        if self._duck is None:
            self._duck = DuckLayer(self.iceberg)
        return self._duck

    def sql(self, query: str) -> pd.DataFrame:
        """Run a DuckDB query on the newest Iceberg data."""
        return self.duck.query(query)

    # ---- monitoring -------------------------------------------------------------
    @property
    def monitor(self) -> Monitor:
        """Reads the metrics store that the stack's monitor component writes."""
        if self._monitor is None:
            self._monitor = Monitor(self.settings, interval_s=self.settings.monitor_interval_s)
        return self._monitor

    def metrics(self, metric: str | list[str] | None = None, minutes: float = 15.0) -> pd.DataFrame:
        """Stored samples of the last ``minutes`` (long format: ts, metric, labels…, value)."""
        return self.monitor.history(metric, minutes)

    def health(self) -> pd.DataFrame:
        """Green/amber/red per layer, from the newest metrics."""
        return monitor_health(self.monitor.latest(), self.settings)

    # ---- the local stack ----------------------------------------------------
    def up(self, setup: bool = True, progress: bool = True) -> pd.DataFrame:
        """Start (or attach to) the local stack, then run the pipeline set-up."""
        self.stack.up(progress=progress)
        if setup:
            self.setup()
        return self.status()

    def down(self) -> list[str]:
        return self.stack.down()

    def status(self) -> pd.DataFrame:
        """Component, pid, port, health, uptime: one row each."""
        return self.stack.status()

    def logs(self, component: str, lines: int = 50) -> str:
        return self.stack.logs(component, lines)

    def setup(self) -> pd.DataFrame:
        """The course's setup-pipeline: topics and connector, idempotently."""
        return _pipeline.setup(self.settings)

    # ---- environment --------------------------------------------------------
    def check_environment(self) -> pd.DataFrame:
        """Python, Java, Maven and the downloaded artifacts, one row each."""
        paths = _stack.StatePaths(self.settings.state_dir)
        java = _stack.java_version()
        mvn = shutil.which("mvn")
        rows = [
            ("python", platform.python_version(), sys.version_info[:2] == (3, 11), "Python 3.11"),
            ("java", java or "missing", bool(java), "OpenJDK 17: `apt-get install openjdk-17-jdk-headless`"),
            ("maven", mvn or "missing", bool(mvn), "`apt-get install maven`"),
            (
                "kafka + connect jars",
                str(paths.lib) if _stack.artifacts_present(paths) else "not downloaded",
                _stack.artifacts_present(paths),
                "`make up` downloads them",
            ),
        ]
        return pd.DataFrame(rows, columns=["check", "found", "ok", "if not ok"])


def connect(profile: str | None = None, **overrides: Any) -> Pipeline:
    """Load the settings and return the :class:`Pipeline` of that profile.

    Args:
        profile: ``local`` (default) or ``confluent``; None reads ``DATAOPS_PROFILE``.
        **overrides: Any :class:`~dataops.config.Settings` field.
    """
    if profile is not None:
        overrides["profile"] = profile
    _one_line_errors_in_notebooks()
    return Pipeline(load_settings(**overrides))


def _one_line_errors_in_notebooks() -> None:
    """In IPython, show a :class:`DataOpsError` as one line instead of a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):  # noqa: ARG001 - IPython's signature
        return [f"{etype.__name__}: {value}"]

    shell.set_custom_exc((DataOpsError,), show)
