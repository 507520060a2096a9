"""The monitor: samples every layer every few seconds into the metrics store.

Runs as a stack component (``python -m dataops.monitor``, started by ``up``, with
the same metrics in Prometheus text format on ``/metrics``) or, as the course
writes it, from a notebook::

    monitor = dataops.start_monitoring(['crypto-prices', 'crypto-prices-exploded'])

Each area is sampled by its own sampler (:class:`~dataops.sampling.Sampler`): the layer
packages contribute theirs (``dataops.source.sampler``, ``dataops.kafka_connect.sampler``,
``dataops.kafka.sampler``, ``dataops.flink.sampler``, ``dataops.iceberg.sampler``), the local
stack its processes' resources (``dataops.stack.sampler``).

One module per concern: :mod:`~dataops.monitor.scheduler` (the :class:`Monitor`: runs the
samplers the profile lists and writes the store), :mod:`~dataops.monitor.rows` (the records
flowing through the topics, and the quality window), :mod:`~dataops.monitor.tail` (topic tails),
:mod:`~dataops.monitor.reader` (:class:`MetricsReader`: what a notebook reads of the store),
:mod:`~dataops.monitor.layer_health` (the traffic light per layer), :mod:`~dataops.monitor.service`
(running it: from a notebook, or as the stack component).
"""

from dataops.metrics import METRICS
from dataops.monitor.layer_health import HEALTH_STATES, health, health_thresholds
from dataops.monitor.reader import MetricsReader
from dataops.monitor.rows import QUALITY_EVERY_S, QUALITY_MAX_ROWS, QUALITY_WINDOW_S
from dataops.monitor.scheduler import Monitor
from dataops.monitor.service import serve_prometheus, start_monitoring

__all__ = [
    "HEALTH_STATES",
    "METRICS",
    "MetricsReader",
    "QUALITY_EVERY_S",
    "QUALITY_MAX_ROWS",
    "QUALITY_WINDOW_S",
    "Monitor",
    "health",
    "health_thresholds",
    "serve_prometheus",
    "start_monitoring",
]
