"""Stand-ins for the running stack that block 5's dashboard check reads, to judge answers offline.

:class:`OfflineStarter` stands in for ``dataops.start_monitoring``: same arguments, the real live dashboard
(:class:`~dataops.monitor.dashboard.Dashboard`) over a metrics store that a feeder thread fills the way the
stack's monitor does, with messages on :data:`TRAFFIC` only. Used by ``tests/unit/test_block5_known_wrong.py``
and the mutation run (:mod:`dataops.course.mutation_registry`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterable

from dataops.config import Settings
from dataops.metrics import MetricsStore, Sample
from dataops.monitor import MetricsReader
from dataops.monitor.dashboard import Dashboard

TRAFFIC = ("crypto-prices", "crypto-prices-exploded")  # the topics the stand-in stack has messages on


class OfflineMonitor(MetricsReader):
    """What ``dataops.start_monitoring`` returns, over a store a feeder thread fills (no stack)."""

    def __init__(self, settings: Settings, topics: Iterable[str] | None, store: MetricsStore) -> None:
        super().__init__(settings, topics, interval_s=0.05, store=store)
        self.dashboard: Dashboard | None = None
        self._stop = threading.Event()
        self._feeder = threading.Thread(target=self._feed, name="dataops-offline-feeder", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        while not self._stop.wait(0.05):
            now = time.time()
            self.store.write([Sample("messages_produced", 2, {"topic": t}, now) for t in TRAFFIC]
                             + [Sample("throughput", 0.4, {"topic": t}, now) for t in TRAFFIC])  # fmt: skip

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        self._stop.set()
        self._feeder.join(timeout=5)


class OfflineStarter:
    """``start_monitoring(topics, interval_s, dashboard)`` offline; :meth:`stop_all` stops what it started."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings, self.folder = settings, Path(folder)
        self.started: list[OfflineMonitor] = []

    def __call__(self, topics: Iterable[str] | None = None, interval_s: float = 5.0, dashboard: bool | None = None) -> OfflineMonitor:
        monitor = OfflineMonitor(self.settings, topics, MetricsStore(self.folder / f"metrics-{len(self.started)}.db"))
        if dashboard is not False:
            monitor.dashboard = Dashboard(monitor, topics, interval_s=0.05).start(display=False)
        self.started.append(monitor)
        return monitor

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()

