"""A read_committed consumer at the end of a topic, drained at each sample."""

from __future__ import annotations

from typing import Any

from dataops.config import Settings


class _Tail:
    """A read_committed consumer positioned at the end of a topic, drained at each sample."""

    def __init__(self, settings: Settings, topic: str) -> None:
        from confluent_kafka import Consumer, TopicPartition

        self.topic = topic
        self.consumer = Consumer(
            settings.kafka_config(
                **{
                    "group.id": f"dataops-monitor-{topic}",
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "auto.offset.reset": "latest",
                    "log_level": 3,
                }
            )
        )
        md = self.consumer.list_topics(topic, timeout=5)
        meta = md.topics.get(topic)
        parts = meta.partitions if meta is not None and meta.error is None else {}
        assignment = []
        for p in parts:
            high = self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
            assignment.append(TopicPartition(topic, p, high))
        self.consumer.assign(assignment)
        self.ready = bool(assignment)  # False while the topic does not exist yet

    def drain(self, max_records: int = 50_000) -> list[Any]:
        out = []
        while len(out) < max_records:
            batch = self.consumer.consume(num_messages=1000, timeout=0.05)
            if not batch:
                break
            out.extend(m for m in batch if not m.error())
        return out

    def close(self) -> None:
        self.consumer.close()
