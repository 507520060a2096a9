"""The local stack's sampler: CPU and memory of each component's process."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import psutil

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Sampler, build_layer

if TYPE_CHECKING:
    from dataops.stack.supervisor import Stack


class ResourcesSampler(Sampler):
    """``cpu_percent`` and ``rss_mb`` per component (``component`` label) of the local stack.

    A component seen for the first time (or restarted) is only primed: its CPU share needs two
    readings, so it reports from the next sample on. Not part of ``pipeline_availability``.
    """

    name: ClassVar[str] = "resources"
    counts_availability: ClassVar[bool] = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: Stack | None = None
        self._procs: dict[str, psutil.Process] = {}

    @property
    def layer(self) -> Stack:
        """The local stack's processes, built once."""
        if self._layer is None:
            self._layer = build_layer(self.settings, "stack")
        return self._layer

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        stack = self.layer
        for name in stack.names:
            proc = self._procs.get(name)
            if proc is None or not proc.is_running():
                proc = stack.process(name)
                if proc is None:
                    continue
                proc.cpu_percent(None)  # first call primes the counter
                self._procs[name] = proc
                continue
            try:
                out.append(Sample("cpu_percent", proc.cpu_percent(None), {"component": name}, now))
                out.append(Sample("rss_mb", proc.memory_info().rss / 2**20, {"component": name}, now))
            except psutil.Error:
                self._procs.pop(name, None)
        return True
