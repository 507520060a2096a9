"""The monitor: samples the areas the profile lists every few seconds into the metrics store.

Each area has its sampler (:class:`~dataops.sampling.Sampler`), contributed by its layer package
(``dataops.source.sampler``, ``dataops.kafka.sampler``, …), by the local stack (process
resources) or by the monitor itself (:mod:`~dataops.monitor.rows`: the records flowing through
the topics). :class:`Monitor` runs the ones ``settings.runs.sampled`` lists, in :data:`SAMPLERS`
order, adds what spans areas (``error_rate``, ``pipeline_availability``) and writes the round.

A layer that is down never stops a sample: its metrics say so (status 0,
availability down) and the others are still measured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable

from dataops.config import Settings
from dataops.errors import ConfigError
from dataops.metrics import MetricsStore, Sample
from dataops.monitor.reader import MetricsReader
from dataops.sampling import Flow, Sampler

logger = logging.getLogger(__name__)

# Area -> its sampler, built from (settings, topics, flow). Imported on use: a layer's client
# libraries (confluent_kafka, duckdb, …) load only in a process that samples that layer.
SamplerFactory = Callable[[Settings, list[str], Flow], Sampler]

SLOW_SAMPLE_S = 10.0  # a sampler slower than this (or two intervals) is logged by name


def _source(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.source.sampler import SourceSampler

    return SourceSampler(settings)


def _connect(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.kafka_connect.sampler import ConnectSampler

    return ConnectSampler(settings)


def _kafka(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.kafka.sampler import KafkaSampler

    return KafkaSampler(settings, topics)


def _flink(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.flink.sampler import FlinkSampler

    return FlinkSampler(settings)


def _rows(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.monitor.rows import RowsSampler

    return RowsSampler(settings, flow)


def _iceberg(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.iceberg.sampler import IcebergSampler

    return IcebergSampler(settings, flow)


def _resources(settings: Settings, topics: list[str], flow: Flow) -> Sampler:
    from dataops.stack.sampler import ResourcesSampler

    return ResourcesSampler(settings)


SAMPLERS: dict[str, SamplerFactory] = {
    "source": _source,
    "connect": _connect,
    "kafka": _kafka,
    "flink": _flink,
    "rows": _rows,
    "iceberg": _iceberg,
    "resources": _resources,
}  # in the order they run: the rows before the table, whose freshness they feed


def build_samplers(settings: Settings, topics: Iterable[str], flow: Flow | None = None) -> dict[str, Sampler]:
    """The samplers of the areas the profile samples, by area, in the order they run
    (:data:`SAMPLERS`: the rows before the table, whose freshness they feed through ``flow``).

    Raises:
        ConfigError: The profile lists an area no sampler measures.
    """
    unknown = sorted(set(settings.runs.sampled) - set(SAMPLERS))
    if unknown:
        raise ConfigError(f"el perfil {settings.runs.name!r} muestrea áreas desconocidas {unknown}", f"usa áreas de {', '.join(SAMPLERS)}")
    flow = flow if flow is not None else Flow()
    names = list(topics)
    return {area: build(settings, names, flow) for area, build in SAMPLERS.items() if area in settings.runs.sampled}


class Monitor(MetricsReader):
    """Samples the pipeline's metrics into a :class:`MetricsStore` (and reads them, as a
    :class:`~dataops.monitor.reader.MetricsReader`).

    Args:
        settings: The loaded settings.
        topics: Topics whose production and throughput are measured.
        interval_s: Seconds between samples (≤ 5 by default).
        store: Where samples go; default ``<state>/data/metrics/metrics.db``.

    Attributes:
        samplers: Area -> its sampler, the ones the profile samples, in the order they run.
        errors: Failed measurements per area (and ``sample``: rounds that failed as a whole).
    """

    def __init__(
        self,
        settings: Settings,
        topics: Iterable[str] | None = None,
        interval_s: float = 5.0,
        store: MetricsStore | None = None,
    ) -> None:
        super().__init__(settings, topics, interval_s, store)
        self.flow = Flow()
        self.samplers: dict[str, Sampler] = build_samplers(settings, self.topics, self.flow)
        self.errors: Counter[str] = Counter()
        self._last_ts: float | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.dashboard: Any = None  # the live view start_monitoring shows in a notebook

    # ---- one sample -----------------------------------------------------------------
    def sample(self, now: float | None = None) -> list[Sample]:
        """Measure every area once; returns the samples (also written to the store)."""
        now = now or time.time()
        elapsed = now - self._last_ts if self._last_ts else None
        self._last_ts = now
        out: list[Sample] = []
        ok: dict[str, bool] = {}
        for name, sampler in self.samplers.items():
            t0 = time.monotonic()
            try:
                ok[name] = sampler.measure(now, elapsed, out)
            except Exception as exc:  # noqa: BLE001 - a layer that is down is a measurement, not a crash
                ok[name] = False
                self.errors[name] += 1
                logger.debug("sampling %s failed: %r", name, exc)
                sampler.reset()  # e.g. Kafka: after a broker restart, a client's queued requests may never answer
            if (took := time.monotonic() - t0) > max(SLOW_SAMPLE_S, 2 * self.interval_s):
                # a slow layer delays every metric of the round: said in the log, with the layer
                logger.warning("sampling %s took %.0f s (%s)", name, took, "ok" if ok[name] else "failed")
        # Failed polls and dead letters per poll answered: the source's codes (none when it could
        # not be read) and the rows' dead-letter count.
        codes = [s for s in out if s.metric == "http_status_codes"] if ok.get("source") else []
        polls = sum(s.value for s in codes)
        if polls:
            failed = sum(s.value for s in codes if s.labels.get("code") != "200")
            dlq = next((s.value for s in out if s.metric == "dlq_records"), 0.0)
            out.append(Sample("error_rate", 100.0 * (failed + dlq) / polls, {}, now))
        measured = [ok[name] for name, sampler in self.samplers.items() if sampler.counts_availability]
        if measured:
            out.append(Sample("pipeline_availability", 100.0 * sum(measured) / len(measured), {}, now))
        self.store.write(out)
        return out

    # ---- running ------------------------------------------------------------------------
    def run(self, iterations: int | None = None) -> None:
        """Sample every ``interval_s`` until :meth:`stop` (or ``iterations`` samples)."""
        done = 0
        last_prune = time.monotonic()
        while not self._stop.is_set() and (iterations is None or done < iterations):
            t0 = time.monotonic()
            try:
                self.sample()
                if time.monotonic() - last_prune > 3600:
                    self.store.prune()
                    last_prune = time.monotonic()
            except Exception:  # noqa: BLE001 - one bad sample is logged and counted; the next one runs
                self.errors["sample"] += 1
                logger.exception("sample %d failed; the monitor goes on", done + 1)
            done += 1
            self._stop.wait(max(self.interval_s - (time.monotonic() - t0), 0.1))

    def start(self) -> Monitor:
        """Sample in a background thread (in this process)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name="dataops-monitor", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for sampler in self.samplers.values():
            sampler.close()
