"""Reading the monitor's metrics: what a notebook, ``p.metrics()``, ``p.health()`` and the
dashboards read of the metrics store the monitor writes. Reading builds no sampler and
measures nothing."""

from __future__ import annotations

import math
import time
from typing import Iterable

import pandas as pd

from dataops.config import Settings
from dataops.errors import ConfigError
from dataops.metrics import METRICS, MetricsStore


class MetricsReader:
    """The metrics store the monitor writes, read.

    Args:
        settings: The loaded settings.
        topics: Topics the views show (default the raw and the exploded topic).
        interval_s: Seconds between the monitor's samples (how old ``latest`` may be).
        store: Where samples are; default ``<state>/data/metrics/metrics.db``.
    """

    def __init__(
        self,
        settings: Settings,
        topics: Iterable[str] | None = None,
        interval_s: float = 5.0,
        store: MetricsStore | None = None,
    ) -> None:
        self.settings = settings
        self.topics = list(topics or [settings.topic_raw, settings.topic_exploded])
        self.interval_s = interval_s
        self.store = store or MetricsStore(settings.paths.metrics_db, overlay=settings.paths.own_metrics_db)

    def history(self, metric: str | Iterable[str] | None = None, minutes: float = 15.0) -> pd.DataFrame:
        """The stored samples of the last ``minutes``.

        Raises:
            ConfigError: ``minutes`` is not a number > 0, or a metric is neither one the monitor
                records nor one in the store (a learner's own).
        """
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not (math.isfinite(minutes) and minutes > 0):
            raise ConfigError(f"minutes={minutes!r} no es un número de minutos > 0", "p. ej. `p.metrics(\"throughput\", minutes=15)`")
        if metric is not None:
            names = [metric] if isinstance(metric, str) else list(metric)
            unknown = [m for m in names if m not in METRICS]
            if unknown and (missing := [m for m in unknown if m not in set(self.store.metrics())]):
                raise ConfigError(f"métrica desconocida {missing[0]!r}", f"elige entre {', '.join(METRICS)} (o una que hayas grabado tú)")
            metric = names
        return self.store.query(metric, since=time.time() - minutes * 60)

    def latest(self) -> pd.DataFrame:
        """The newest sample of each series, not older than six sampling intervals (at least a minute),
        nor than two polls of the API: the source's metrics are sampled only in rounds with a poll, so
        with ``POLL_INTERVAL_S`` past a minute they must not read as missing between two polls."""
        return self.store.latest(max_age_s=max(60.0, 6 * self.interval_s, 2 * self.settings.poll_interval_s))
