"""The monitor: samples every layer every few seconds into the metrics store.

Runs as a stack component (``python -m dataops.monitor``, started by ``up``, with
the same metrics in Prometheus text format on ``/metrics``) or, as the course
writes it, from a notebook::

    monitor = dataops.start_monitoring(['crypto-prices', 'crypto-prices-exploded'])

One module per concern: :mod:`~dataops.monitor.sampler` (the :class:`Monitor` and its
samples), :mod:`~dataops.monitor.tail` (topic tails), :mod:`~dataops.monitor.layer_health`
(the traffic light per layer), :mod:`~dataops.monitor.service` (running it: from a
notebook, or as the stack component).
"""

from dataops.metrics import METRICS
from dataops.monitor.layer_health import HEALTH_STATES, health, health_thresholds
from dataops.monitor.sampler import QUALITY_EVERY_S, QUALITY_MAX_ROWS, QUALITY_WINDOW_S, Monitor
from dataops.monitor.service import serve_prometheus, start_monitoring

__all__ = [
    "HEALTH_STATES",
    "METRICS",
    "QUALITY_EVERY_S",
    "QUALITY_MAX_ROWS",
    "QUALITY_WINDOW_S",
    "Monitor",
    "health",
    "health_thresholds",
    "serve_prometheus",
    "start_monitoring",
]
