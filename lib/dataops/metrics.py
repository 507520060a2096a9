"""Time-series store of the pipeline's metrics.

One SQLite file in WAL mode: the monitor writes while notebooks, the alert engine
and the Prometheus exporter read, from other processes, without lock errors.
Each series is a metric name plus labels; samples are (series, ts, value).
How each metric is exposed to Prometheus is :mod:`dataops.metrics_export`'s.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

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


OVERLAY_IDS = 1_000_000_000  # an overlay's series ids start above this (MetricsStore)


class MetricsStore:
    """Read and write metric samples in one SQLite file.

    A store this process may only read (a class's monitor writes each learner's, in a folder of the
    server's that their group reads) is opened read only; with an ``overlay``, what this process
    writes (a learner's own metric, block 2) goes there, and reads see both.

    Args:
        path: The database file (created when missing).
        retention_s: Samples older than this are deleted by :meth:`prune`.
        overlay: Where to write when ``path`` is someone else's (created when missing).
    """

    def __init__(self, path: str | Path, retention_s: float = DEFAULT_RETENTION_S, overlay: str | Path | None = None) -> None:
        self.path = Path(path)
        self.read_only = self.path.is_file() and not os.access(self.path.parent, os.W_OK)
        self.overlay = Path(overlay) if overlay is not None and self.read_only else None
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.overlay is not None:
            self.overlay.parent.mkdir(parents=True, exist_ok=True)
        self.retention_s = retention_s
        self._local = threading.local()
        self._series: dict[tuple[str, str], int] = {}
        if not self.read_only:
            with self._conn() as conn:
                conn.executescript(_SCHEMA)
        elif self.overlay is not None:
            self._conn()  # the overlay's tables, made before the views that name them

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        shared = f"{self.path.resolve().as_uri()}?mode=ro"  # WAL files there, readable: SQLite reads without writing them
        if self.read_only and self.overlay is None:
            conn = sqlite3.connect(shared, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
        else:
            target = self.path if self.overlay is None else self.overlay.resolve().as_uri()  # a URI: ATTACH takes one then
            conn = sqlite3.connect(target, uri=self.overlay is not None, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        if self.overlay is not None:  # reads (unqualified names) see both; writes name main
            conn.executescript(_SCHEMA)
            conn.execute("ATTACH DATABASE ? AS shared", (shared,))
            for table, columns in (("series", "id, metric, labels"), ("samples", "series_id, ts, value")):
                conn.execute(f"CREATE TEMP VIEW {table} AS SELECT {columns} FROM main.{table} UNION ALL SELECT {columns} FROM shared.{table}")
        self._local.conn = conn
        return conn

    def _series_id(self, conn: sqlite3.Connection, metric: str, labels: str) -> int:
        key = (metric, labels)
        if key not in self._series:
            first = OVERLAY_IDS if self.overlay is not None else 0  # an overlay's ids apart from the shared store's
            conn.execute("INSERT OR IGNORE INTO main.series (id, metric, labels) VALUES ((SELECT COALESCE(MAX(id), ?) + 1 FROM main.series), ?, ?)",
                         (first, *key))  # fmt: skip
            self._series[key] = conn.execute("SELECT id FROM main.series WHERE metric = ? AND labels = ?", key).fetchone()[0]
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
            conn.executemany("INSERT INTO main.samples (series_id, ts, value) VALUES (?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)

    def prune(self, now: float | None = None) -> int:
        """Delete samples older than the retention. Returns how many were deleted."""
        cutoff = (now or time.time()) - self.retention_s
        cur = self._conn().execute("DELETE FROM main.samples WHERE ts < ?", (cutoff,))
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
            ids = [r[0] for r in conn.execute(f"SELECT id FROM main.series WHERE metric IN ({marks})", names)]
            id_marks = ",".join("?" * len(ids))
            gone = conn.execute(f"DELETE FROM main.samples WHERE series_id IN ({id_marks})", ids).rowcount if ids else 0
            conn.execute(f"DELETE FROM main.series WHERE metric IN ({marks})", names)
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
