"""The metrics store's samples as Prometheus reads them: :data:`PROMETHEUS` names each metric (base
units, ``dataops_…``); :class:`LatestCollector` serves the newest samples with prometheus_client."""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

import pandas as pd
from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.registry import Collector

from dataops.metrics import METRICS


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
