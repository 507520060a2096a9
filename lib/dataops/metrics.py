"""Time-series store of the pipeline's metrics.

One SQLite file in WAL mode: the monitor writes while notebooks, the alert engine
and the Prometheus exporter read, from other processes, without lock errors.
Each series is a metric name plus labels; samples are (series, ts, value).
:data:`PROMETHEUS` names each metric for Prometheus; :class:`LatestCollector` serves the newest
samples with prometheus_client.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

import numpy as np
import pandas as pd
from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.registry import Collector

DEFAULT_RETENTION_S = 7 * 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    UNIQUE (metric, labels)
);
CREATE TABLE IF NOT EXISTS samples (
    series_id INTEGER NOT NULL,
    ts REAL NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_series_ts ON samples (series_id, ts);
CREATE INDEX IF NOT EXISTS samples_by_ts ON samples (ts);
"""


# The course's metrics (block 2, "Puntos de observabilidad" and KPIs), with units.
METRICS = {
    "api_response_time": "ms, mean latency of the connector's polls in the interval",
    "api_error_rate": "%, polls answered with a non-200 status",
    "http_status_codes": "count of polls per status code in the interval",
    "messages_produced": "offsets added to each topic in the interval (end-offset growth)",
    "connector_status": "1 when the connector and its tasks are RUNNING, else 0 (label state)",
    "topic_lag": "messages, end offset minus committed offset per consumer group and topic",
    "throughput": "offsets per second per topic",
    "processing_latency": "s, from a poll's record in crypto-prices to Flink processing its rows",
    "error_rate": "%, failed polls plus dead-letter records over polls in the interval",
    "dlq_records": "dead-letter records in the interval",
    "data_freshness": "s, now minus the newest event_time in the Iceberg table",
    "data_completeness": "%, exploded rows with every field present, times coins present",
    "data_accuracy": "%, prices inside the expected range of their coin",
    "quality_score": "%, checks of the quality suite passed on the last 5 minutes of raw polls and exploded rows",
    "price": "USD, newest price per coin (label coin)",
    "price_change_24h": "%, the 24h change the API reports per coin (label coin)",
    "price_updates": "price updates (exploded rows) per minute",
    "coin_coverage": "%, coins seen per poll over the coins expected",
    "e2e_latency": "s, from the API's answer (the poll's record) to the table commit that makes its rows visible in DuckDB",
    "frozen_coins": "coins whose price is frozen right now (the suite's frozen_prices check, still ongoing)",
    "flink_job_running": "1 when the Flink explode job is RUNNING, else 0 (label job)",
    "pipeline_availability": "%, layers up at sample time",
    "cpu_percent": "% of one core per component",
    "rss_mb": "MB resident memory per component",
}


@dataclass(frozen=True)
class Sample:
    """One observation of a metric.

    Attributes:
        metric: Name, e.g. ``topic_lag``.
        value: The number observed.
        labels: Dimensions, e.g. ``{"topic": "crypto-prices"}``.
        ts: UNIX seconds; defaults to now.
    """

    metric: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)


def _labels_key(labels: Mapping[str, str]) -> str:
    return json.dumps({k: str(v) for k, v in sorted(labels.items())}, separators=(",", ":"))


class MetricsStore:
    """Read and write metric samples in one SQLite file.

    Args:
        path: The database file (created when missing).
        retention_s: Samples older than this are deleted by :meth:`prune`.
    """

    def __init__(self, path: str | Path, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retention_s = retention_s
        self._local = threading.local()
        self._series: dict[tuple[str, str], int] = {}
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def _series_id(self, conn: sqlite3.Connection, metric: str, labels: str) -> int:
        key = (metric, labels)
        if key not in self._series:
            conn.execute("INSERT OR IGNORE INTO series (metric, labels) VALUES (?, ?)", key)
            self._series[key] = conn.execute(
                "SELECT id FROM series WHERE metric = ? AND labels = ?", key
            ).fetchone()[0]
        return self._series[key]

    # ---- write ---------------------------------------------------------------
    def write(self, samples: Iterable[Sample]) -> int:
        """Append samples in one transaction. Returns how many were written."""
        conn = self._conn()
        rows = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for s in samples:
                sid = self._series_id(conn, s.metric, _labels_key(s.labels))
                rows.append((sid, float(s.ts), float(s.value)))
            conn.executemany("INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)

    def prune(self, now: float | None = None) -> int:
        """Delete samples older than the retention. Returns how many were deleted."""
        cutoff = (now or time.time()) - self.retention_s
        cur = self._conn().execute("DELETE FROM samples WHERE ts < ?", (cutoff,))
        return cur.rowcount

    def delete(self, metrics: Iterable[str]) -> int:
        """Delete every series (and its samples) of these metrics. Returns how many samples went."""
        names = list(metrics)
        if not names:
            return 0
        marks = ",".join("?" * len(names))
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = [r[0] for r in conn.execute(f"SELECT id FROM series WHERE metric IN ({marks})", names)]
            id_marks = ",".join("?" * len(ids))
            gone = conn.execute(f"DELETE FROM samples WHERE series_id IN ({id_marks})", ids).rowcount if ids else 0
            conn.execute(f"DELETE FROM series WHERE metric IN ({marks})", names)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._series = {k: v for k, v in self._series.items() if k[0] not in names}
        return gone

    # ---- read ------------------------------------------------------------------
    def newest_ts(self) -> float | None:
        """UNIX time of the newest sample of any series (None: the store is empty)."""
        row = self._conn().execute("SELECT MAX(ts) FROM samples").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def metrics(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT DISTINCT metric FROM series ORDER BY metric")]

    def query(
        self,
        metric: str | Iterable[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Samples as a long table: ``ts`` (UTC timestamp), ``metric``, one column per label, ``value``.

        Args:
            metric: A name or names; None for all.
            since: UNIX seconds (inclusive); None for the beginning.
            until: UNIX seconds (exclusive); None for now.
            labels: Keep only series whose labels include these.
        """
        conn = self._conn()
        # Samples carry only numbers; the few series are joined in pandas, not per row in SQL.
        series = pd.DataFrame(conn.execute("SELECT id, metric, labels FROM series").fetchall(), columns=["id", "metric", "labels"])
        clauses, args = _time_clauses(since, until, "ts")
        if metric is not None:  # else every series: the ts index serves the range
            series = series[series["metric"].isin(_names(metric))]
            clauses.append(f"series_id IN ({','.join(str(int(i)) for i in series['id'])})")
        if not len(series):
            return _expand(pd.DataFrame(columns=["ts", "metric", "labels", "value"]), labels)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        rows = conn.execute(f"SELECT series_id, ts, value FROM samples{where}", args).fetchall()
        arr = np.array(rows, dtype="float64").reshape(-1, 3)
        order = np.lexsort((arr[:, 0], arr[:, 1]))  # by ts, then series (sorting here beats SQLite's ORDER BY)
        arr = arr[order]
        pos = pd.Index(series["id"].astype("int64")).get_indexer(arr[:, 0].astype("int64"))
        raw = pd.DataFrame(
            {"ts": arr[:, 1], "metric": series["metric"].to_numpy()[pos], "labels": series["labels"].to_numpy()[pos], "value": arr[:, 2]}
        )
        return _expand(raw, labels)

    def _frame(self, sql: str, args: list[object]) -> pd.DataFrame:
        return pd.DataFrame(self._conn().execute(sql, args).fetchall(), columns=["ts", "metric", "labels", "value"])

    def latest(self, metric: str | Iterable[str] | None = None, max_age_s: float | None = None) -> pd.DataFrame:
        """The newest sample of every series (optionally of given metrics, not older than ``max_age_s``)."""
        where, args = _where(metric, time.time() - max_age_s if max_age_s is not None else None)
        sql = (
            "SELECT s.ts, r.metric, r.labels, s.value FROM series r "
            "JOIN samples s ON s.series_id = r.id "
            "AND s.ts = (SELECT MAX(ts) FROM samples WHERE series_id = r.id)"
        )
        raw = self._frame(f"{sql} {where}", args)
        return _expand(raw.sort_values(["metric", "labels"]).reset_index(drop=True), None)


def _names(metric: str | Iterable[str]) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def _time_clauses(since: float | None, until: float | None, column: str) -> tuple[list[str], list[object]]:
    """``column >= since`` and ``column < until`` (each when given), with their arguments."""
    clauses: list[str] = []
    args: list[object] = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        args.append(until)
    return clauses, args


def _where(metric: str | Iterable[str] | None, since: float | None) -> tuple[str, list[object]]:
    """The WHERE clause of :meth:`MetricsStore.latest` (series ``r`` joined with samples ``s``)."""
    clauses, args = _time_clauses(since, None, "s.ts")
    if metric is not None:
        names = _names(metric)
        clauses.append(f"r.metric IN ({','.join('?' * len(names))})")
        args += names
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def _expand(raw: pd.DataFrame, labels: Mapping[str, str] | None) -> pd.DataFrame:
    # Decode each distinct label set once (a day of samples shares a handful of series).
    decoded = {key: json.loads(key) for key in raw["labels"].unique()}
    if labels:
        wanted = {k: str(v) for k, v in labels.items()}
        keep = {key for key, d in decoded.items() if all(d.get(k) == v for k, v in wanted.items())}
        raw = raw[raw["labels"].isin(keep)].reset_index(drop=True)
    names = sorted({name for d in decoded.values() for name in d})
    out = raw[["ts", "metric"]].copy()
    for name in names:
        out[name] = raw["labels"].map({key: d.get(name, "") for key, d in decoded.items()})
    out["value"] = raw["value"]
    out["ts"] = pd.to_datetime(out["ts"], unit="s", utc=True)
    return out


# ---- Prometheus exposition ---------------------------------------------------------------


class Export(NamedTuple):
    """How a store metric is exposed to Prometheus: ``value × scale`` under ``name`` with ``type``."""

    name: str
    type: str
    scale: float = 1.0


# Store metric -> Prometheus metric. Base units in the names (seconds, bytes, ratios where the
# store keeps %). Every store series is a gauge: per-interval counts are measured again at each
# sample, and none of them only grows, so none is a counter (`_total`).
PROMETHEUS = {
    "api_response_time": Export("dataops_api_response_time_seconds", "gauge", 0.001),
    "api_error_rate": Export("dataops_api_error_ratio", "gauge", 0.01),
    "http_status_codes": Export("dataops_http_responses_in_interval", "gauge"),
    "messages_produced": Export("dataops_messages_produced_in_interval", "gauge"),
    "connector_status": Export("dataops_connector_status", "gauge"),
    "topic_lag": Export("dataops_topic_lag_messages", "gauge"),
    "throughput": Export("dataops_throughput_messages_per_second", "gauge"),
    "processing_latency": Export("dataops_processing_latency_seconds", "gauge"),
    "e2e_latency": Export("dataops_e2e_latency_seconds", "gauge"),
    "error_rate": Export("dataops_error_ratio", "gauge", 0.01),
    "dlq_records": Export("dataops_dlq_records_in_interval", "gauge"),
    "data_freshness": Export("dataops_data_freshness_seconds", "gauge"),
    "data_completeness": Export("dataops_data_completeness_ratio", "gauge", 0.01),
    "data_accuracy": Export("dataops_data_accuracy_ratio", "gauge", 0.01),
    "coin_coverage": Export("dataops_coin_coverage_ratio", "gauge", 0.01),
    "quality_score": Export("dataops_quality_score_ratio", "gauge", 0.01),
    "price": Export("dataops_price_usd", "gauge"),
    "price_change_24h": Export("dataops_price_change_24h_ratio", "gauge", 0.01),
    "price_updates": Export("dataops_price_updates_per_second", "gauge", 1 / 60),
    "frozen_coins": Export("dataops_frozen_coins", "gauge"),
    "flink_job_running": Export("dataops_flink_job_running", "gauge"),
    "pipeline_availability": Export("dataops_pipeline_availability_ratio", "gauge", 0.01),
    "cpu_percent": Export("dataops_cpu_usage_ratio", "gauge", 0.01),
    "rss_mb": Export("dataops_rss_bytes", "gauge", 2.0**20),
}
# What a name's unit suffix says in HELP, and its OpenMetrics unit.
_UNITS = {"_seconds": ("in seconds", "seconds"), "_bytes": ("in bytes", "bytes"),
          "_ratio": ("as a ratio (1 = 100%)", "ratio"), "_per_second": ("per second", "")}  # fmt: skip


def _identifier(text: str) -> str:
    """``text`` as a Prometheus metric or label name: letters, digits and ``_``, not starting with a digit."""
    name = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in str(text))
    return f"_{name}" if not name or name[0].isdigit() else name


def prometheus_export(metric: str) -> Export:
    """The exposition of a store metric: its :data:`PROMETHEUS` entry, else ``dataops_<name>`` as a gauge."""
    return PROMETHEUS.get(metric) or Export(f"dataops_{_identifier(metric)}", "gauge")


def prometheus_label(name: str) -> str:
    """A store label as a Prometheus label name (``__`` is reserved for Prometheus itself)."""
    label = _identifier(name)
    return f"l{label}" if label.startswith("__") else label


def scaled(value: float, scale: float) -> float:
    """``value × scale`` rounded to 15 significant digits (``250 ms × 0.001`` is 0.25, not 0.25000000000000006)."""
    return float(value) if scale == 1 else float(f"{float(value) * scale:.15g}")


def _help(metric: str, export: Export) -> str:
    text = METRICS.get(metric) or f"store metric {metric} (not described in dataops.metrics.METRICS)"
    if export.scale == 1:
        return text
    words = next((w for suffix, (w, _) in _UNITS.items() if export.name.endswith(suffix)), "scaled")
    return f"{text}; exported {words} (store value × {export.scale:.10g})"


def metric_families(latest: pd.DataFrame) -> list[Metric]:
    """The newest samples (a :meth:`MetricsStore.latest` frame) as prometheus_client metric families.

    Each sample keeps the store's timestamp: the exporter mirrors a time-series store that the
    monitor fills every few seconds, and a value up to ``max_age_s`` old must not be stamped with
    the scrape time (Prometheus' staleness markers then do not apply: a series the monitor stops
    writing leaves ``/metrics`` after ``max_age_s`` and Prometheus' 5-minute lookback).
    Empty labels (a label column of another metric) are left out.
    """
    families: dict[str, Metric] = {}
    label_cols = [c for c in latest.columns if c not in ("ts", "metric", "value")]
    for metric, group in latest.groupby("metric", sort=True):
        export = prometheus_export(str(metric))
        family = families.get(export.name)
        if family is None:  # two store names may sanitize to one name: one family
            unit = next((u for suffix, (_, u) in _UNITS.items() if export.name.endswith(suffix)), "")
            family = families[export.name] = Metric(export.name, _help(str(metric), export), export.type, unit)
        for row in group.to_dict("records"):
            labels = {prometheus_label(c): row[c] for c in label_cols if isinstance(row[c], str) and row[c] != ""}
            family.add_sample(export.name, labels, scaled(row["value"], export.scale), timestamp=row["ts"].timestamp())
    return list(families.values())


class LatestCollector(Collector):
    """A prometheus_client collector that reads the newest samples on each scrape.

    Args:
        read: Returns the frame to expose, e.g. ``lambda: store.latest(max_age_s=60)``.
    """

    def __init__(self, read: Callable[[], pd.DataFrame]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        yield from metric_families(self.read())


def prometheus_registry(read: Callable[[], pd.DataFrame]) -> CollectorRegistry:
    """A registry holding only a :class:`LatestCollector` (nothing is read until a scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatestCollector(read))
    return registry


def prometheus_text(latest: pd.DataFrame) -> str:
    """The newest samples in the Prometheus text exposition format (0.0.4), as ``/metrics`` serves them."""
    return generate_latest(prometheus_registry(lambda: latest)).decode()
