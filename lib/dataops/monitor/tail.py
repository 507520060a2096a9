"""A read_committed consumer at the end of a topic, drained at each sample.

A sample reads at most ``max_backlog`` records per partition: after a backfill of days in
seconds, it skips to the newest ones (and counts what it skipped), so the monitor's cost per
sample stays bounded however much traffic arrives. Counts of messages come from offsets, not
from here.
"""

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
                    # prefetch little: what a sample skips is never fetched nor decompressed
                    "queued.min.messages": 1000,
                    "queued.max.messages.kbytes": 2048,
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
        self._next = {tp.partition: tp.offset for tp in assignment}  # the next offset each partition reads
        self.skipped = 0  # records skipped since the start (see the module's docstring)

    def _skip_backlog(self, max_backlog: int) -> None:
        from confluent_kafka import TopicPartition

        moved = False
        for partition, nxt in self._next.items():
            # the high watermark the last fetch response carried: no request to the broker (one
            # would wait behind the consumer's long-poll fetch on the same connection)
            high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), cached=True)[1]
            if high >= 0 and high - nxt > max_backlog:
                self.skipped += high - max_backlog - nxt
                self._next[partition] = high - max_backlog
                moved = True
        if moved:
            self.consumer.assign([TopicPartition(self.topic, p, o) for p, o in self._next.items()])

    def drain(self, max_records: int = 50_000, max_backlog: int | None = None) -> list[Any]:
        """The records since the last drain (with ``max_backlog``: at most the newest that many per partition)."""
        if max_backlog is not None:
            self._skip_backlog(max_backlog)
            max_records = min(max_records, max_backlog * max(len(self._next), 1))  # the rest: skipped next time
        out = []
        while len(out) < max_records:
            batch = self.consumer.consume(num_messages=min(1000, max_records - len(out)), timeout=0.05)
            if not batch:
                break
            for m in batch:
                if not m.error():
                    out.append(m)
                    self._next[m.partition()] = m.offset() + 1
        return out

    def close(self) -> None:
        self.consumer.close()
