"""Kafka Connect's sampler: one ``connector_status`` per connector (1 when it and its tasks run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Sampler, build_layer

if TYPE_CHECKING:
    from dataops.kafka_connect.layer import ConnectLayer


class ConnectSampler(Sampler):
    """``connector_status`` per connector, labelled with its first state that is not ``RUNNING``;
    the layer is down while any connector (or a task of it) does not run."""

    name: ClassVar[str] = "connect"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: ConnectLayer | None = None

    @property
    def layer(self) -> ConnectLayer:
        """The Connect REST API, built once, with a short timeout."""
        if self._layer is None:
            self._layer = build_layer(self.settings, "connect")
        return self._layer

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        healthy = True
        for name, states in self.layer.states().items():
            state = next((s for s in states if s != "RUNNING"), "RUNNING")
            ok = state == "RUNNING" and len(states) > 1
            healthy &= ok
            out.append(Sample("connector_status", 1.0 if ok else 0.0, {"connector": name, "state": state}, now))
        return healthy
