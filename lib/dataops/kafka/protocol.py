"""What a notebook may call on the Kafka layer (``p.kafka``): topics, offsets, records and
consumer groups; creating and deleting a topic are the calls that change something.

:class:`Record` (one record as read back) lives here, with the protocol that returns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from dataops.protocols import action

if TYPE_CHECKING:  # the client library is imported by the layer, not here
    from confluent_kafka.admin import AdminClient

__all__ = ["Kafka", "Record"]


@dataclass(frozen=True)
class Record:
    """One Kafka record as read back."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    value: str | None
    headers: dict[str, str | bytes | None]
    size_bytes: int = 0  # the value as the broker holds it (Avro's wire format, or the JSON text)
    schema_id: int | None = None  # the registry's id of its writer schema, for a value in Avro's wire format


class Kafka(Protocol):
    """The Kafka layer of the active profile, read the way downstream readers do (read_committed)."""

    def admin(self) -> AdminClient:
        """A Kafka admin client of the active profile (for what the layer does not wrap)."""
        ...

    def topic_names(self) -> list[str]:
        """Topic names (internal topics hidden)."""
        ...

    def topics(self) -> pd.DataFrame:
        """Topics with partitions and offsets: one row per partition."""
        ...

    def topic_config(self, name: str, keys: Iterable[str]) -> dict[str, str] | None:
        """``partitions`` and the given config keys of a topic (None: no such topic)."""
        ...

    def end_offsets(self, topic: str) -> dict[int, int]:
        """High watermark of each partition (transaction markers included)."""
        ...

    def read(self, topic: str, start: dict[int, int] | None = None, timeout: float = 10.0) -> list[Record]:
        """Every committed record from ``start`` offsets (default: the beginning) to the current end."""
        ...

    def latest(self, topic: str, n: int = 1, wait_s: float = 0.0) -> pd.DataFrame:
        """The ``n`` most recent committed records of ``topic``, newest first."""
        ...

    def messages(self, topic: str, n: int = 5) -> pd.DataFrame:
        """The last ``n`` committed messages, decoded."""
        ...

    def consumer_groups(self, group: str | None = None) -> pd.DataFrame:
        """Committed offsets and lag per partition of each consumer group (or of ``group``)."""
        ...

    def throughput(self, window_s: float = 10.0, topics: list[str] | None = None) -> pd.DataFrame:
        """Offsets per second over a window, per topic (blocks ``window_s``)."""
        ...

    @action
    def ensure_topic(self, name: str, partitions: int, config: dict[str, str]) -> str:
        """Create ``name`` if missing, else align its configs; what was done."""
        ...

    @action
    def delete_topic(self, name: str, wait_s: float = 15.0) -> None:
        """Delete a topic (its data is gone) and wait until the metadata no longer lists it."""
        ...
