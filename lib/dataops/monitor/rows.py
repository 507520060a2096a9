"""The rows' sampler: prices, quality KPIs and processing latency from the records flowing
through the topics (tailed as they arrive), and the quality suite on the last window of them.

It sits in the monitor, beside the topic tails, because it runs the quality suite
(:mod:`dataops.quality`); what it sees flow is handed, as a :class:`~dataops.sampling.Flow`, to
the table's sampler (:mod:`dataops.iceberg.sampler`).
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from typing import Any, ClassVar

import pandas as pd
import yaml

from dataops.config import DATA_DIR, Settings
from dataops.contract import contract_for
from dataops.metrics import Sample
from dataops.monitor.tail import _Tail
from dataops.sampling import Flow, Sampler

logger = logging.getLogger(__name__)

PRICE_RANGES = DATA_DIR / "quality" / "price_ranges.yaml"
QUALITY_WINDOW_S = 300.0  # rows the quality suite judges: the last 5 minutes
QUALITY_EVERY_S = 15.0  # how often the suite runs (it costs more than a sample)
# The window's cap, 10x what 5 minutes hold at the default rate (5 coins every 5 s): after a
# backfill of days in seconds, the pass judges the newest rows, and its cost stays bounded.
QUALITY_MAX_ROWS = 3_000
QUALITY_MAX_POLLS = QUALITY_MAX_ROWS // 5
# Records a sample reads per partition at most (the newest): 10x what 5 s bring at a poll a second.
MAX_BACKLOG = 500


class RowsSampler(Sampler):
    """``dlq_records``, ``price``, ``price_change_24h``, ``price_updates``, ``processing_latency``,
    ``data_completeness``, ``coin_coverage``, ``data_accuracy``, and every :data:`QUALITY_EVERY_S`
    ``quality_score`` and ``frozen_coins``. Not part of ``pipeline_availability``.

    Args:
        settings: The loaded settings.
        flow: Where the poll times and the exploded rows awaiting their commit go (for the table's sampler).
    """

    name: ClassVar[str] = "rows"
    counts_availability: ClassVar[bool] = False

    def __init__(self, settings: Settings, flow: Flow | None = None) -> None:
        self.settings = settings
        self.flow = flow if flow is not None else Flow()
        self.ranges: dict[str, Any] = yaml.safe_load(PRICE_RANGES.read_text()) if PRICE_RANGES.exists() else {}
        self.contract = contract_for(settings)
        self._tails: dict[str, _Tail] = {}
        self._window: deque[tuple[float, dict[str, Any]]] = deque(maxlen=QUALITY_MAX_ROWS)  # (Kafka timestamp s, exploded row)
        self._raw_window: deque[tuple[float, Any]] = deque(maxlen=QUALITY_MAX_POLLS)  # (Kafka timestamp s, TimedPoll)
        self._quality_at = -math.inf
        self._suite: Any = None
        self._suite_stamp: tuple[float, ...] = ()

    def _tail(self, topic: str) -> _Tail:
        tail = self._tails.get(topic)
        if tail is None or not tail.ready:  # the monitor may start before `pipeline setup` creates the topics
            if tail is not None:
                tail.close()
            tail = self._tails[topic] = _Tail(self.settings, topic)
        return tail

    def close(self) -> None:
        for tail in self._tails.values():
            tail.close()
        self._tails.clear()

    def measure(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        """Prices, quality KPIs and processing latency from the records flowing through the topics."""
        from dataops.quality import TimedPoll

        poll_times = self.flow.poll_times
        for record in self._tail(self.settings.topic_raw).drain(max_backlog=MAX_BACKLOG // 5):
            stamp_ms = record.timestamp()[1]
            self._raw_window.append((stamp_ms / 1000, TimedPoll(record.value(), stamp_ms)))
            try:
                payload = json.loads(record.value())
                tick = int(next(iter(payload.values()))["last_updated_at"])
            except Exception:  # noqa: BLE001 - poison polls are the DLQ's business
                continue
            poll_times[tick] = stamp_ms / 1000
        rows: list[dict[str, Any]] = []
        exploded = self._tail(self.settings.topic_exploded)
        skipped = exploded.skipped
        for record in exploded.drain(max_backlog=MAX_BACKLOG):
            try:
                row = json.loads(record.value())
                self.flow.pending.append((record.timestamp()[1], pd.Timestamp(row["event_time"]).timestamp()))
            except (TypeError, KeyError, ValueError):
                continue
            rows.append(row)
            self._window.append((record.timestamp()[1] / 1000, row))
        dead = self._tail(self.settings.topic_dlq).drain()
        out.append(Sample("dlq_records", len(dead), {}, now))
        if len(poll_times) > 5000:
            for tick in sorted(poll_times)[:-1000]:
                del poll_times[tick]
        self._quality(now, out)
        expected = set(self.settings.coins)
        # Coins lost to the dead-letter queue count as incomplete rows: a poll whose schema
        # drifted produces no row at all, and its completeness is 0, not "unknown".
        lost = 0
        for record in dead:
            try:
                lost += 1 if json.loads(record.value()).get("granularity") == "coin" else len(expected)
            except (TypeError, ValueError, AttributeError):
                lost += len(expected)
        if not rows:
            if lost:
                out.append(Sample("data_completeness", 0.0, {}, now))
            return True
        price = self.contract.price
        newest: dict[str, tuple[int, float, Any]] = {}
        for row in rows:
            if isinstance(row.get(price), (int, float)) and row.get("coin_id"):
                stamp = int(row.get("last_updated_at") or 0)
                if stamp >= newest.get(row["coin_id"], (-1,))[0]:
                    newest[row["coin_id"]] = (stamp, float(row[price]), row.get("usd_24h_change"))
        out.extend(Sample("price", value, {"coin": coin}, now) for coin, (_, value, _) in newest.items())
        out.extend(Sample("price_change_24h", float(change), {"coin": coin}, now)
                   for coin, (_, _, change) in newest.items() if isinstance(change, (int, float)))  # fmt: skip
        if elapsed:
            out.append(Sample("price_updates", 60.0 * (len(rows) + exploded.skipped - skipped) / elapsed, {}, now))
        latencies: list[float] = []
        for row in rows:
            polled = poll_times.get(int(row.get("last_updated_at") or 0))
            processed = pd.Timestamp(row["processed_at"]).timestamp() if row.get("processed_at") else None
            if polled and processed:
                latencies.append(max(processed - polled, 0.0))
        if latencies:
            out.append(Sample("processing_latency", sum(latencies) / len(latencies), {}, now))
        complete = sum(all(row.get(f) is not None for f in self.contract.names) for row in rows) / (len(rows) + lost)
        by_tick: dict[int, set[str | None]] = {}
        for row in rows:
            by_tick.setdefault(int(row.get("last_updated_at") or 0), set()).add(row.get("coin_id"))
        coverage = sum(len(c & expected) for c in by_tick.values()) / (len(by_tick) * len(expected))
        out.append(Sample("data_completeness", 100.0 * complete * coverage, {}, now))
        out.append(Sample("coin_coverage", 100.0 * coverage, {}, now))
        judged = [r for r in rows if r.get("coin_id") in self.ranges and isinstance(r.get(price), (int, float))]
        if judged:
            inside = sum(self.ranges[r["coin_id"]]["min"] <= r[price] <= self.ranges[r["coin_id"]]["max"] for r in judged)
            out.append(Sample("data_accuracy", 100.0 * inside / len(judged), {}, now))
        return True

    def _quality(self, now: float, out: list[Sample]) -> None:
        """``quality_score`` and ``frozen_coins``: the checks of ``data/quality/suite.yaml`` on the raw
        polls and exploded rows of the last :data:`QUALITY_WINDOW_S`, every :data:`QUALITY_EVERY_S`."""
        from dataops import quality

        for window in (self._window, self._raw_window):
            while window and window[0][0] < now - QUALITY_WINDOW_S:
                window.popleft()
        if now - self._quality_at < QUALITY_EVERY_S or not (self._window or self._raw_window):
            return
        self._quality_at = now
        stamp = quality.files_stamp()
        if self._suite is None or stamp != self._suite_stamp:  # a learner's edit, or reset restoring it
            self._suite_stamp = stamp
            try:
                self._suite = quality.load_suite()
            except quality.SuiteError as exc:
                self._suite = False
                logger.error("quality metrics disabled until the suite is fixed: %s", exc)
        if self._suite is False:
            return
        rows = pd.DataFrame([row for _, row in self._window]) if self._window else None
        polls = [poll for _, poll in self._raw_window] if self._raw_window else None
        report = quality.run_suite(self._suite, polls=polls, rows=rows, now=now)
        if not report.enough_data:  # a fresh stack: no score is better than a score on nothing
            return
        out.append(Sample("quality_score", report.score, {}, now))
        check = next((c for c in self._suite.checks if c.dataset == "exploded_row" and c.type == "frozen_prices"), None)
        if check is not None and rows is not None:
            runs = quality.runs_for_check(check, rows)
            out.append(Sample("frozen_coins", float(runs.loc[runs["ongoing"], "coin_id"].nunique()), {}, now))
