"""What every sampler of the monitor shares: the :class:`Sampler` interface, the :class:`Flow`
one sampler hands to another, and the short-timeout layer objects they measure.

Each layer package contributes the sampler of its area (``dataops.kafka.sampler``,
``dataops.iceberg.sampler``, …); :mod:`dataops.monitor` schedules the areas the profile lists
(``settings.runs.sampled``) and writes what they measure to the metrics store. This module sits
below the layers, so a layer's sampler never imports the monitor.

A layer that is down is a measurement, not a crash: a sampler that raises counts its area down
(the samples it appended before are kept), and the other areas are still measured.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dataops.config import Settings
from dataops.metrics import Sample

LAYER_TIMEOUT_S = 3.0  # a sample must not hang on one layer


class Sampler(ABC):
    """One area the monitor samples (an entry of :data:`dataops.profiles.SAMPLED`).

    A sampler holds its own clients and state between samples, builds them on first use (a
    monitor must be cheap to construct) and rebuilds them after :meth:`reset`.

    Attributes:
        name: The area, as ``settings.runs.sampled`` names it; the key of the monitor's error counts.
        counts_availability: Whether the area counts in ``pipeline_availability``.
    """

    name: ClassVar[str]
    counts_availability: ClassVar[bool] = True

    @abstractmethod
    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        """Append this area's samples at ``now`` to ``out``.

        Args:
            now: The sample's time (UNIX seconds).
            elapsed: Seconds since the previous sample (None at the first one).
            out: The samples of this round; what is appended before an exception is kept.

        Returns:
            False when the layer answered and is not working (a connector or a job not running);
            the area then counts as down in ``pipeline_availability``.

        Raises:
            Exception: The layer could not be measured (down, unreachable): the monitor counts
                the area down and the error in ``errors[name]``, and calls :meth:`reset`.
        """

    def sample(self, now: float, elapsed: float | None = None) -> list[Sample]:
        """This area's samples alone (one :meth:`measure`); nothing is written anywhere."""
        out: list[Sample] = []
        self.measure(now, elapsed, out)
        return out

    def reset(self) -> None:
        """After a failed sample: drop what may be broken (the next sample builds it again)."""

    def close(self) -> None:
        """When the monitor stops: release clients (a later sample builds them again)."""


@dataclass
class Flow:
    """What the rows sampler saw flow through the topics, for the areas downstream of them
    (the table's freshness and end-to-end latency are measured on these rows).

    Attributes:
        poll_times: Poll tick (``last_updated_at``) → the poll's Kafka timestamp (s).
        pending: (Kafka timestamp ms, event time) of exploded rows not yet seen committed.
    """

    poll_times: dict[int, float] = field(default_factory=dict)
    pending: deque[tuple[int, float]] = field(default_factory=deque)


def build_layer(settings: Settings, name: str) -> Any:
    """A layer object of the profile (``settings.runs.build``), with short timeouts."""
    layer = settings.runs.build(name, settings)
    if hasattr(layer, "timeout"):
        layer.timeout = LAYER_TIMEOUT_S  # a sample must not hang on one layer
    return layer
