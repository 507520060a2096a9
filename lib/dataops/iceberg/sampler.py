"""The table's sampler: ``data_freshness`` of what DuckDB sees, and ``e2e_latency`` from an API
answer to the commit that made its rows visible."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from dataops.config import Settings
from dataops.metrics import Sample
from dataops.sampling import Flow, Sampler, build_layer

if TYPE_CHECKING:
    from dataops.iceberg.layer import IcebergLayer


class IcebergSampler(Sampler):
    """``data_freshness`` and ``e2e_latency`` of the Iceberg table.

    Args:
        settings: The loaded settings.
        flow: The exploded rows and poll times the rows sampler tails (None: a flow of its own,
            which stays empty: the freshness then comes from DuckDB once).
    """

    name: ClassVar[str] = "iceberg"

    def __init__(self, settings: Settings, flow: Flow | None = None) -> None:
        self.settings = settings
        self.flow = flow if flow is not None else Flow()
        self._layer: IcebergLayer | None = None
        self._committed_event: float | None = None

    @property
    def layer(self) -> IcebergLayer:
        """The Iceberg catalog, built once, with a short timeout."""
        if self._layer is None:
            self._layer = build_layer(self.settings, "iceberg")
        return self._layer

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        """data_freshness of what DuckDB sees: now minus the newest committed event_time.

        Scanning the table every few seconds would cost more than the rest of the monitor,
        so the newest committed event time comes from the exploded rows the monitor tails,
        up to the sink's last commit horizon (``kafka.connect.valid-through-ts``: every
        record with an earlier Kafka timestamp is in the table). DuckDB answers only once,
        when the monitor starts.

        A table reachable with no commit yet (or no row) is not enough data for a freshness,
        not a layer down: nothing is appended and the area counts up.
        """
        iceberg = self.layer
        snap = iceberg.table().current_snapshot()
        if snap is None:
            return True  # reachable, no commit yet: not enough data for a freshness, not a layer down
        summary = snap.summary.additional_properties if snap.summary else {}
        valid_through = summary.get("kafka.connect.valid-through-ts")  # ISO-8601, absent on partial commits
        horizon_ms = (
            int(pd.Timestamp(valid_through).timestamp() * 1000)
            if valid_through
            else snap.timestamp_ms - int(self.settings.iceberg_commit_interval_s * 1000)
        )
        pending, poll_times = self.flow.pending, self.flow.poll_times
        landed = []  # API answer (the poll's Kafka timestamp) → the commit that made its rows visible
        while pending and pending[0][0] <= horizon_ms:
            _, event_time = pending.popleft()
            self._committed_event = max(self._committed_event or 0.0, event_time)
            if (polled := poll_times.get(int(event_time))) is not None:
                landed.append(max(snap.timestamp_ms / 1000 - polled, 0.0))
        if landed:
            out.append(Sample("e2e_latency", sum(landed) / len(landed), {}, now))
        if self._committed_event is None:
            from dataops.duck.layer import DuckLayer

            duck = DuckLayer(iceberg, threads=1)
            newest = duck.query(f"SELECT max(event_time) AS t FROM {duck.view}")["t"][0]
            duck.close()
            if pd.isna(newest):
                return True  # no row yet: not enough data for a freshness, not a layer down
            self._committed_event = pd.Timestamp(newest).timestamp()
        out.append(Sample("data_freshness", max(now - self._committed_event, 0.0), {}, now))
        return True
