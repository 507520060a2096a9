"""The monitor: samples every layer every few seconds into the metrics store.

A layer that is down never stops a sample: its metrics say so (status 0,
availability down) and the others are still measured.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter, deque
from typing import Any, Iterable

import pandas as pd
import psutil
import yaml

from dataops import profiles as layers
from dataops.config import DATA_DIR, Settings
from dataops.contract import contract_for
from dataops.metrics import MetricsStore, Sample
from dataops.monitor.tail import _Tail

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


class Monitor:
    """Samples the pipeline's metrics into a :class:`MetricsStore`.

    Args:
        settings: The loaded settings.
        topics: Topics whose production and throughput are measured.
        interval_s: Seconds between samples (≤ 5 by default).
        store: Where samples go; default ``<state>/data/metrics/metrics.db``.
    """

    def __init__(
        self,
        settings: Settings,
        topics: Iterable[str] | None = None,
        interval_s: float = 5.0,
        store: MetricsStore | None = None,
    ) -> None:
        self.settings = settings
        self.topics = list(topics or [settings.topic_raw, settings.topic_exploded])
        self.interval_s = interval_s
        self.store = store or MetricsStore(settings.paths.metrics_db)
        self.ranges = yaml.safe_load(PRICE_RANGES.read_text()) if PRICE_RANGES.exists() else {}
        self.contract = contract_for(settings)
        self._served_seq: int | None = None
        self._offsets: dict[str, int] = {}
        self._last_ts: float | None = None
        self._elapsed: float | None = None
        self._poll_times: dict[int, float] = {}
        self._tails: dict[str, _Tail] = {}
        self._procs: dict[str, psutil.Process] = {}
        self._consumer = None
        self._admin = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._layers: dict[str, Any] = {}
        self._pending: deque[tuple[int, float]] = deque()  # (Kafka timestamp ms, event time) of exploded rows
        self._committed_event: float | None = None
        self._groups: list[str] = []
        self._groups_at = -math.inf
        self.errors: Counter[str] = Counter()
        self._window: deque[tuple[float, dict[str, Any]]] = deque(maxlen=QUALITY_MAX_ROWS)  # (Kafka timestamp s, exploded row)
        self._raw_window: deque[tuple[float, Any]] = deque(maxlen=QUALITY_MAX_POLLS)  # (Kafka timestamp s, TimedPoll)
        self._quality_at = -math.inf
        self._suite: Any = None
        self._suite_stamp: tuple[float, ...] = ()
        self.dashboard: Any = None  # the live view start_monitoring shows in a notebook

    # ---- clients (created once; a monitor must be cheap) ----------------------
    def _layer(self, name: str) -> Any:
        """A layer object of the profile (:mod:`dataops.profiles`), built once, with short timeouts."""
        from dataops import profiles as layers

        if name not in self._layers:
            layer = layers.build(self.settings, name)
            if hasattr(layer, "timeout"):
                layer.timeout = 3.0  # a sample must not hang on one layer
            self._layers[name] = layer
        return self._layers[name]

    def _kafka(self):
        from confluent_kafka import Consumer
        from confluent_kafka.admin import AdminClient

        if self._consumer is None:
            conf = self.settings.kafka_config(**{"group.id": "dataops-monitor", "log_level": 3, "socket.timeout.ms": 3000})
            self._consumer = Consumer(conf)
            self._admin = AdminClient(self.settings.kafka_config(log_level=3))
        return self._consumer, self._admin

    def _reset_kafka(self) -> None:
        """Drop the Kafka clients: the next sample builds new ones."""
        consumer, self._consumer, self._admin = self._consumer, None, None
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    def _tail(self, topic: str) -> _Tail:
        tail = self._tails.get(topic)
        if tail is None or not tail.ready:  # the monitor may start before `pipeline setup` creates the topics
            if tail is not None:
                tail.close()
            tail = self._tails[topic] = _Tail(self.settings, topic)
        return tail

    # ---- one sample -----------------------------------------------------------------
    def sample(self, now: float | None = None) -> list[Sample]:
        """Measure every layer once; returns the samples (also written to the store)."""
        now = now or time.time()
        elapsed = self._elapsed = now - self._last_ts if self._last_ts else None
        self._last_ts = now
        out: list[Sample] = []
        up: dict[str, bool] = {}
        polls = failed_polls = 0
        for name, probe in (
            ("source", lambda: self._source(now, out)),
            ("connect", lambda: self._connect(now, out)),
            ("kafka", lambda: self._kafka_metrics(now, elapsed, out)),
            ("flink", lambda: self._flink(now, out)),
            ("rows", lambda: self._rows(now, out)),
            ("iceberg", lambda: self._iceberg(now, out)),
        ):
            if name in ("source", "connect", "flink") and not layers.offers(self.settings.profile, name):
                continue  # a cloud service of the confluent profile: not sampled here
            try:
                result = probe()
                up[name] = result is not False
                if name == "source" and isinstance(result, tuple):
                    polls, failed_polls = result
            except Exception as exc:  # noqa: BLE001 - a layer that is down is a measurement, not a crash
                up[name] = False
                self.errors[name] += 1
                logger.debug("sampling %s failed: %r", name, exc)
                if name == "kafka":
                    self._reset_kafka()  # after a broker restart, a client's queued requests may never answer
        dlq = next((s.value for s in out if s.metric == "dlq_records"), 0.0)
        if polls:
            out.append(Sample("error_rate", 100.0 * (failed_polls + dlq) / polls, {}, now))
        measured = [v for k, v in up.items() if k != "rows"]
        out.append(Sample("pipeline_availability", 100.0 * sum(measured) / len(measured), {}, now))
        out.extend(self._resources(now))
        self.store.write(out)
        return out

    def _source(self, now: float, out: list[Sample]) -> tuple[int, int] | bool:
        if self._served_seq is None:  # first sample: only remember where we are
            self._served_seq = self._layer("source").last_seq()
            return (0, 0)
        served = self._layer("source").served(since=self._served_seq, limit=100_000)
        if len(served):
            self._served_seq = int(served["seq"].iloc[-1])
        polls = served[served["path"].str.endswith("/simple/price")]
        if polls.empty:
            return (0, 0)
        codes = Counter(str(int(code)) for code in polls["status"])
        for code, n in codes.items():
            out.append(Sample("http_status_codes", n, {"code": code}, now))
        failed = sum(n for code, n in codes.items() if code != "200")
        out.append(Sample("api_response_time", float(polls["latency_ms"].mean()), {}, now))
        out.append(Sample("api_error_rate", 100.0 * failed / len(polls), {}, now))
        return (len(polls), failed)

    def _connect(self, now: float, out: list[Sample]) -> bool:
        healthy = True
        for name, states in self._layer("connect").states().items():
            state = next((s for s in states if s != "RUNNING"), "RUNNING")
            ok = state == "RUNNING" and len(states) > 1
            healthy &= ok
            out.append(Sample("connector_status", 1.0 if ok else 0.0, {"connector": name, "state": state}, now))
        return healthy

    def _kafka_metrics(self, now: float, elapsed: float | None, out: list[Sample]) -> bool:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        consumer, admin = self._kafka()
        md = consumer.list_topics(timeout=3)
        ends: dict[tuple[str, int], int] = {}
        for topic in {*self.topics, self.settings.topic_dlq}:
            if topic not in md.topics:
                continue
            total = 0
            for p in md.topics[topic].partitions:
                high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=3, cached=False)[1]
                ends[(topic, p)] = high
                total += high
            if topic in self.topics:
                if topic in self._offsets and elapsed:
                    grown = total - self._offsets[topic]
                    out.append(Sample("messages_produced", grown, {"topic": topic}, now))
                    out.append(Sample("throughput", grown / elapsed, {"topic": topic}, now))
                self._offsets[topic] = total
        readers = {self.settings.flink_job_name, self.settings.iceberg_sink_group}
        if time.monotonic() - self._groups_at > 60 or not readers <= set(self._groups):
            # Listing every group is the monitor's most expensive call: once a minute is enough,
            # except while the pipeline's readers have not joined yet (a fresh stack).
            self._groups = [
                g.group_id
                for g in admin.list_consumer_groups(request_timeout=3).result().valid
                if not g.group_id.startswith(("dataops-", "cg-control-"))
            ]
            self._groups_at = time.monotonic()
        for gid in self._groups:
            result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(gid)], request_timeout=3)[gid].result(timeout=5)
            lag: dict[str, int] = {}
            for tp in result.topic_partitions:
                if tp.topic in self.topics and tp.offset >= 0 and (tp.topic, tp.partition) in ends:
                    lag[tp.topic] = lag.get(tp.topic, 0) + max(ends[(tp.topic, tp.partition)] - tp.offset, 0)
            for topic, value in lag.items():
                out.append(Sample("topic_lag", value, {"group": gid, "topic": topic}, now))
        return True

    def _flink(self, now: float, out: list[Sample]) -> bool:
        live = self._layer("flink").live_job(self.settings.flink_job_name)
        running = live is not None and live["state"] == "RUNNING"
        out.append(Sample("flink_job_running", 1.0 if running else 0.0, {"job": self.settings.flink_job_name}, now))
        return running

    def _rows(self, now: float, out: list[Sample]) -> bool:
        """Prices, quality KPIs and processing latency from the records flowing through the topics."""
        from dataops.quality import TimedPoll

        for record in self._tail(self.settings.topic_raw).drain(max_backlog=MAX_BACKLOG // 5):
            stamp_ms = record.timestamp()[1]
            self._raw_window.append((stamp_ms / 1000, TimedPoll(record.value(), stamp_ms)))
            try:
                payload = json.loads(record.value())
                tick = int(next(iter(payload.values()))["last_updated_at"])
            except Exception:  # noqa: BLE001 - poison polls are the DLQ's business
                continue
            self._poll_times[tick] = stamp_ms / 1000
        rows = []
        exploded = self._tail(self.settings.topic_exploded)
        skipped = exploded.skipped
        for record in exploded.drain(max_backlog=MAX_BACKLOG):
            try:
                row = json.loads(record.value())
                self._pending.append((record.timestamp()[1], pd.Timestamp(row["event_time"]).timestamp()))
            except (TypeError, KeyError, ValueError):
                continue
            rows.append(row)
            self._window.append((record.timestamp()[1] / 1000, row))
        dead = self._tail(self.settings.topic_dlq).drain()
        out.append(Sample("dlq_records", len(dead), {}, now))
        if len(self._poll_times) > 5000:
            for tick in sorted(self._poll_times)[:-1000]:
                del self._poll_times[tick]
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
        if self._elapsed:
            out.append(Sample("price_updates", 60.0 * (len(rows) + exploded.skipped - skipped) / self._elapsed, {}, now))
        latencies = []
        for row in rows:
            polled = self._poll_times.get(int(row.get("last_updated_at") or 0))
            processed = pd.Timestamp(row["processed_at"]).timestamp() if row.get("processed_at") else None
            if polled and processed:
                latencies.append(max(processed - polled, 0.0))
        if latencies:
            out.append(Sample("processing_latency", sum(latencies) / len(latencies), {}, now))
        complete = sum(all(row.get(f) is not None for f in self.contract.names) for row in rows) / (len(rows) + lost)
        by_tick: dict[int, set[str]] = {}
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

    def _iceberg(self, now: float, out: list[Sample]) -> bool | None:
        """data_freshness of what DuckDB sees: now minus the newest committed event_time.

        Scanning the table every few seconds would cost more than the rest of the monitor,
        so the newest committed event time comes from the exploded rows the monitor tails,
        up to the sink's last commit horizon (``kafka.connect.valid-through-ts``: every
        record with an earlier Kafka timestamp is in the table). DuckDB answers only once,
        when the monitor starts.
        """
        iceberg = self._layer("iceberg")
        snap = iceberg.table().current_snapshot()
        if snap is None:
            return None  # reachable, no commit yet: not enough data for a freshness, not a layer down
        summary = snap.summary.additional_properties if snap.summary else {}
        valid_through = summary.get("kafka.connect.valid-through-ts")  # ISO-8601, absent on partial commits
        horizon_ms = (
            int(pd.Timestamp(valid_through).timestamp() * 1000)
            if valid_through
            else snap.timestamp_ms - int(self.settings.iceberg_commit_interval_s * 1000)
        )
        landed = []  # API answer (the poll's Kafka timestamp) → the commit that made its rows visible
        while self._pending and self._pending[0][0] <= horizon_ms:
            _, event_time = self._pending.popleft()
            self._committed_event = max(self._committed_event or 0.0, event_time)
            if (polled := self._poll_times.get(int(event_time))) is not None:
                landed.append(max(snap.timestamp_ms / 1000 - polled, 0.0))
        if landed:
            out.append(Sample("e2e_latency", sum(landed) / len(landed), {}, now))
        if self._committed_event is None:
            from dataops.duck.layer import DuckLayer

            duck = DuckLayer(iceberg, threads=1)
            newest = duck.query(f"SELECT max(event_time) AS t FROM {duck.view}")["t"][0]
            duck.close()
            if pd.isna(newest):
                return None
            self._committed_event = pd.Timestamp(newest).timestamp()
        out.append(Sample("data_freshness", max(now - self._committed_event, 0.0), {}, now))
        return True

    def _resources(self, now: float) -> list[Sample]:
        if not layers.offers(self.settings.profile, "stack"):
            return []
        samples = []
        stack = self._layer("stack")
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
                samples.append(Sample("cpu_percent", proc.cpu_percent(None), {"component": name}, now))
                samples.append(Sample("rss_mb", proc.memory_info().rss / 2**20, {"component": name}, now))
            except psutil.Error:
                self._procs.pop(name, None)
        return samples

    # ---- running ------------------------------------------------------------------------
    def run(self, iterations: int | None = None) -> None:
        """Sample every ``interval_s`` until :meth:`stop` (or ``iterations`` samples)."""
        done = 0
        last_prune = time.monotonic()
        while not self._stop.is_set() and (iterations is None or done < iterations):
            t0 = time.monotonic()
            try:
                self.sample()
                if time.monotonic() - last_prune > 3600:
                    self.store.prune()
                    last_prune = time.monotonic()
            except Exception:  # noqa: BLE001 - one bad sample is logged and counted; the next one runs
                self.errors["sample"] += 1
                logger.exception("sample %d failed; the monitor goes on", done + 1)
            done += 1
            self._stop.wait(max(self.interval_s - (time.monotonic() - t0), 0.1))

    def start(self) -> Monitor:
        """Sample in a background thread (in this process)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name="dataops-monitor", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for tail in self._tails.values():
            tail.close()
        self._tails.clear()

    # ---- reading ------------------------------------------------------------------------
    def history(self, metric: str | Iterable[str] | None = None, minutes: float = 15.0) -> pd.DataFrame:
        """The stored samples of the last ``minutes``."""
        return self.store.query(metric, since=time.time() - minutes * 60)

    def latest(self) -> pd.DataFrame:
        return self.store.latest(max_age_s=max(60.0, 6 * self.interval_s))
