"""The engines of the local stack, in start order.

Each layer package builds its own components in its ``engine`` module (:mod:`dataops.source.engine`,
:mod:`dataops.kafka.engine`, :mod:`dataops.kafka_connect.engine`, :mod:`dataops.flink.engine`,
:mod:`dataops.monitor.engine`; the optional Prometheus and Schema Registry in
:mod:`dataops.stack.prometheus` and :mod:`dataops.stack.schema_registry`, the optional SASL_SSL
broker in :mod:`dataops.kafka.sasl`, the optional Tableflow-shaped Iceberg REST catalog in
:mod:`dataops.iceberg.engine`, the cloud fixtures' Connect worker in :mod:`dataops.kafka_connect.cloud`, the optional class server's broker, Connect, JupyterHub and learners' simulators and monitors in :mod:`dataops.classroom.broker`,
:mod:`~dataops.classroom.connect`, :mod:`~dataops.classroom.flink`, :mod:`~dataops.classroom.hub`,
:mod:`~dataops.classroom.simulators` and :mod:`~dataops.classroom.monitors`),
on the shared
:class:`~dataops.engine.Component`. This module only puts them in order, and names the groups
of optional components ``up --with`` takes.
"""

from __future__ import annotations

from typing import Iterable

from dataops.classroom import broker as class_broker
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.classroom import hub as class_hub
from dataops.classroom import monitors as class_monitors
from dataops.classroom import simulators as class_simulators
from dataops.config import Settings
from dataops.engine import Component
from dataops.flink import engine as flink_engine
from dataops.iceberg import engine as iceberg_engine
from dataops.kafka import engine as kafka_engine
from dataops.kafka import sasl as kafka_sasl
from dataops.kafka_connect import cloud as connect_cloud
from dataops.kafka_connect import engine as connect_engine
from dataops.monitor import engine as monitor_engine
from dataops.source import engine as source_engine
from dataops.stack import prometheus, schema_registry

# Group name -> the optional components it stands for (``dataops up --with cloud-fixtures``): local
# stand-ins for what the ``confluent`` profile uses on Confluent Cloud.
GROUPS: dict[str, tuple[str, ...]] = {
    "cloud-fixtures": (kafka_sasl.NAME, schema_registry.NAME, iceberg_engine.BACKEND, iceberg_engine.FRONT, connect_cloud.NAME),
}


def expand(names: Iterable[str]) -> list[str]:
    """``names`` with each group (``cloud-fixtures``) replaced by its components, each name once."""
    out: list[str] = []
    for name in names:
        out.extend(n for n in GROUPS.get(name, (name,)) if n not in out)
    return out


def components(s: Settings) -> list[Component]:
    """The local stack's components, in start order."""
    return [
        *source_engine.components(s),
        *kafka_engine.components(s),
        *connect_engine.components(s),
        *flink_engine.components(s),
        *monitor_engine.components(s),
        *prometheus.components(s),
        *schema_registry.components(s),
        *kafka_sasl.components(s),
        *iceberg_engine.components(s),
        *connect_cloud.components(s),
        *class_broker.components(s),
        *class_connect.components(s),
        *class_flink.components(s),
        *class_hub.components(s),
        *class_simulators.components(s),
        *class_monitors.components(s),
    ]
