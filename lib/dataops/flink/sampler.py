"""Flink's sampler: ``flink_job_running`` of the explode job."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Sampler, build_layer

if TYPE_CHECKING:
    from dataops.flink.layer import FlinkLayer


class FlinkSampler(Sampler):
    """``flink_job_running`` (1 while the job named ``flink_job_name`` runs); the layer is down otherwise."""

    name: ClassVar[str] = "flink"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: FlinkLayer | None = None

    @property
    def layer(self) -> FlinkLayer:
        """The Flink REST API, built once, with a short timeout."""
        if self._layer is None:
            self._layer = build_layer(self.settings, "flink")
        return self._layer

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        live = self.layer.live_job(self.settings.flink_job_name)
        running = live is not None and live["state"] == "RUNNING"
        out.append(Sample("flink_job_running", 1.0 if running else 0.0, {"job": self.settings.flink_job_name}, now))
        return running
