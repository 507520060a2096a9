"""Kafka's sampler: messages produced and throughput per topic (from end offsets), and the lag
of every consumer group of the pipeline on those topics."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, ClassVar, Iterable

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Sampler

if TYPE_CHECKING:
    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient


class KafkaSampler(Sampler):
    """``messages_produced`` and ``throughput`` per topic, ``topic_lag`` per group and topic.

    Args:
        settings: The loaded settings.
        topics: Topics whose production, throughput and lag are measured.
    """

    name: ClassVar[str] = "kafka"

    def __init__(self, settings: Settings, topics: Iterable[str]) -> None:
        self.settings = settings
        self.topics = list(topics)
        self._consumer: Consumer | None = None
        self._admin: AdminClient | None = None
        self._offsets: dict[str, int] = {}
        self._groups: list[str] = []
        self._groups_at = -math.inf

    # ---- clients (created once; a monitor must be cheap) ----------------------
    def clients(self) -> tuple[Consumer, AdminClient]:
        """The consumer (watermarks) and admin client (groups), built on first use."""
        from confluent_kafka import Consumer
        from confluent_kafka.admin import AdminClient

        if self._consumer is None or self._admin is None:
            conf = self.settings.kafka_config(**{"group.id": "dataops-monitor", "log_level": 3, "socket.timeout.ms": 3000})
            self._consumer = Consumer(conf)
            self._admin = AdminClient(self.settings.kafka_config(log_level=3))
        return self._consumer, self._admin

    def reset(self) -> None:
        """Drop the Kafka clients: the next sample builds new ones (after a broker restart, a
        client's queued requests may never answer)."""
        consumer, self._consumer, self._admin = self._consumer, None, None
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    # ---- one sample -----------------------------------------------------------------
    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        consumer, admin = self.clients()
        md = consumer.list_topics(timeout=3)
        ends: dict[tuple[str, int], int] = {}
        for topic in {*self.topics, self.settings.topic_dlq}:
            if topic not in md.topics:
                continue
            total = 0
            for p in md.topics[topic].partitions:
                high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=3, cached=False)[1]
                ends[(topic, p)] = high
                total += high
            if topic in self.topics:
                if topic in self._offsets and elapsed:
                    grown = total - self._offsets[topic]
                    out.append(Sample("messages_produced", grown, {"topic": topic}, now))
                    out.append(Sample("throughput", grown / elapsed, {"topic": topic}, now))
                self._offsets[topic] = total
        readers = {self.settings.flink_job_name, self.settings.iceberg_sink_group}
        if time.monotonic() - self._groups_at > 60 or not readers <= set(self._groups):
            # Listing every group is the monitor's most expensive call: once a minute is enough,
            # except while the pipeline's readers have not joined yet (a fresh stack).
            self._groups = [
                g.group_id
                for g in admin.list_consumer_groups(request_timeout=3).result(timeout=5).valid
                if not g.group_id.startswith(("dataops-", "cg-control-"))
            ]
            self._groups_at = time.monotonic()
        for gid in self._groups:
            result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(gid)], request_timeout=3)[gid].result(timeout=5)
            lag: dict[str, int] = {}
            for tp in result.topic_partitions:
                if tp.topic in self.topics and tp.offset >= 0 and (tp.topic, tp.partition) in ends:
                    lag[tp.topic] = lag.get(tp.topic, 0) + max(ends[(tp.topic, tp.partition)] - tp.offset, 0)
            for topic, value in lag.items():
                out.append(Sample("topic_lag", value, {"group": gid, "topic": topic}, now))
        return True
