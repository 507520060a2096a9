"""The engines of the local stack, in start order.

Each layer package builds its own components in its ``engine`` module (:mod:`dataops.source.engine`,
:mod:`dataops.kafka.engine`, :mod:`dataops.kafka_connect.engine`, :mod:`dataops.flink.engine`,
:mod:`dataops.monitor.engine`; Prometheus in :mod:`dataops.stack.prometheus`), on the shared
:class:`~dataops.engine.Component`. This module only puts them in order.
"""

from __future__ import annotations

from dataops.config import Settings
from dataops.engine import Component
from dataops.flink import engine as flink_engine
from dataops.kafka import engine as kafka_engine
from dataops.kafka_connect import engine as connect_engine
from dataops.monitor import engine as monitor_engine
from dataops.source import engine as source_engine
from dataops.stack import prometheus


def components(s: Settings) -> list[Component]:
    """The local stack's components, in start order."""
    return [
        *source_engine.components(s),
        *kafka_engine.components(s),
        *connect_engine.components(s),
        *flink_engine.components(s),
        *monitor_engine.components(s),
        *prometheus.components(s),
    ]
