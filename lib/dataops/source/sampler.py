"""The source's sampler: HTTP status codes, response time and error rate of the API polls the
simulator answered since the previous sample (its served log is the ground truth)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, ClassVar

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Sampler, build_layer

if TYPE_CHECKING:
    from dataops.source.layer import SimulatorLayer


class SourceSampler(Sampler):
    """``http_status_codes`` (per code), ``api_response_time`` and ``api_error_rate`` of the price polls."""

    name: ClassVar[str] = "source"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: SimulatorLayer | None = None
        self._served_seq: int | None = None

    @property
    def layer(self) -> SimulatorLayer:
        """The simulator, built once, with a short timeout."""
        if self._layer is None:
            self._layer = build_layer(self.settings, "source")
        return self._layer

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        if self._served_seq is None:  # first sample: only remember where we are
            self._served_seq = self.layer.last_seq()
            return True
        served = self.layer.served(since=self._served_seq, limit=100_000)
        if len(served):
            self._served_seq = int(served["seq"].iloc[-1])
        polls = served[served["path"].str.endswith("/simple/price")]
        if polls.empty:
            return True
        codes = Counter(str(int(code)) for code in polls["status"])
        for code, n in codes.items():
            out.append(Sample("http_status_codes", n, {"code": code}, now))
        failed = sum(n for code, n in codes.items() if code != "200")
        out.append(Sample("api_response_time", float(polls["latency_ms"].mean()), {}, now))
        out.append(Sample("api_error_rate", 100.0 * failed / len(polls), {}, now))
        return True
