"""Metrics store, Prometheus exposition and the health overview, on small data."""

from __future__ import annotations

import multiprocessing
import time

import pandas as pd
import pytest

from dataops import load_settings
from dataops.metrics import MetricsStore, Sample
from dataops.metrics_export import prometheus_text
from dataops.monitor import health

pytestmark = pytest.mark.unit


@pytest.fixture()
def store(tmp_path):
    return MetricsStore(tmp_path / "m.db", retention_s=3600)


def test_write_query_latest_with_labels(store):
    t0 = 1_700_000_000.0
    store.write([Sample("topic_lag", v, {"topic": "a", "group": "g"}, t0 + i) for i, v in enumerate([5, 7, 9])])
    store.write([Sample("topic_lag", 1, {"topic": "b", "group": "g"}, t0 + 1), Sample("data_freshness", 3.0, {}, t0 + 2)])
    lag = store.query("topic_lag", labels={"topic": "a"})
    assert list(lag["value"]) == [5, 7, 9] and set(lag["topic"]) == {"a"}
    assert list(store.query("topic_lag", since=t0 + 1, until=t0 + 2)["value"]) == [7, 1]
    latest = store.latest()
    assert len(latest) == 3
    assert float(latest[(latest["metric"] == "topic_lag") & (latest["topic"] == "a")]["value"].iloc[0]) == 9
    assert store.metrics() == ["data_freshness", "topic_lag"]


def test_prune_keeps_the_retention_window(store):
    now = time.time()
    store.write([Sample("x", 1, {}, now - 7200), Sample("x", 2, {}, now - 10)])
    assert store.prune(now) == 1
    assert list(store.query("x")["value"]) == [2]


def _writer(path: str, n: int) -> None:
    s = MetricsStore(path)
    for i in range(n):
        s.write([Sample("w", i, {"k": "v"}, time.time())])


def test_reader_and_writer_in_two_processes_never_lock(tmp_path):
    path = str(tmp_path / "shared.db")
    MetricsStore(path)
    proc = multiprocessing.get_context("spawn").Process(target=_writer, args=(path, 300))
    proc.start()
    reader = MetricsStore(path)
    reads = 0
    while proc.is_alive():
        reader.query("w")
        reader.latest()
        reads += 1
    proc.join()
    assert proc.exitcode == 0 and reads > 0
    assert len(reader.query("w")) == 300


def test_prometheus_text_format(store):
    store.write([Sample("topic_lag", 3, {"topic": "crypto-prices", "group": 'we"ird'}, 1_700_000_000.5)])
    text = prometheus_text(store.latest())
    assert "# TYPE dataops_topic_lag_messages gauge" in text
    assert 'dataops_topic_lag_messages{group="we\\"ird",topic="crypto-prices"} 3.0 1700000000500' in text


def _latest(rows):
    return pd.DataFrame(
        [{"ts": pd.Timestamp.now(tz="UTC"), "metric": m, "connector": c, "state": s, "group": g, "value": v} for m, c, s, g, v in rows]
    )


def test_health_is_green_when_everything_is_fine_and_red_per_broken_layer():
    settings = load_settings(env_file="/nonexistent")
    fine = [
        ("api_error_rate", "", "", "", 0.0),
        ("connector_status", "src", "RUNNING", "", 1.0),
        ("topic_lag", "", "", "crypto-explode", 3.0),
        ("topic_lag", "", "", "connect-crypto-prices-iceberg", 7.0),
        ("flink_job_running", "", "", "", 1.0),
        ("data_freshness", "", "", "", 4.0),
        ("pipeline_availability", "", "", "", 100.0),
    ]
    h = health(_latest(fine), settings)
    assert list(h["layer"]) == ["Fuente", "Kafka Connect", "Kafka", "Flink", "Iceberg", "DuckDB", "Monitor"]
    assert (h["state"] == "green").all(), h
    broken = [r for r in fine if r[0] not in ("connector_status", "data_freshness")]
    broken += [("connector_status", "src", "PAUSED", "", 0.0), ("data_freshness", "", "", "", 900.0)]
    broken = [("topic_lag", "", "", "crypto-explode", 5000.0) if r[3] == "crypto-explode" else r for r in broken]
    h = health(_latest(broken), settings).set_index("layer")
    assert h.loc["Kafka Connect", "state"] == "red" and "PAUSED" in h.loc["Kafka Connect", "detail"]
    assert h.loc["Iceberg", "state"] == "red"
    assert h.loc["Kafka", "state"] == "red"
    assert h.loc["Flink", "state"] == "green"


def test_a_monitor_that_stopped_writing_is_red_not_quiet():
    settings = load_settings(env_file="/nonexistent")
    rows = [("api_error_rate", "", "", "", 0.0), ("flink_job_running", "", "", "", 1.0)]
    now = time.time()
    assert health(_latest(rows), settings, now=now).set_index("layer").loc["Monitor", "state"] == "green"
    dead = health(_latest(rows), settings, now=now + 120).set_index("layer").loc["Monitor"]
    assert dead["state"] == "red" and "hace 120 s" in dead["detail"] and "dataops up" in dead["detail"], dead.to_dict()


def test_no_sample_yet_is_waiting_with_what_it_waits_for_then_red_past_the_bound():
    settings = load_settings(env_file="/nonexistent")
    now = 1_800_000_000.0
    # Right after set-up: only the source and Connect have reported; Flink committed, the sink not yet.
    fresh = [
        ("api_error_rate", "", "", "", 0.0),
        ("connector_status", "src", "RUNNING", "", 1.0),
        ("topic_lag", "", "", "crypto-explode", 3.0),
        ("flink_job_running", "", "", "", 1.0),
    ]
    h = health(_latest(fresh), settings, expected_since=now - 20, now=now).set_index("layer")
    assert h.loc["Kafka", "state"] == "waiting" and "sink de Iceberg" in h.loc["Kafka", "detail"], h
    assert "Flink" not in h.loc["Kafka", "detail"]  # Flink's group has reported
    assert h.loc["Iceberg", "state"] == "waiting" and "primer commit" in h.loc["Iceberg", "detail"]
    assert h.loc["DuckDB", "state"] == "waiting"
    assert h.loc["Fuente", "state"] == "green" and h.loc["Flink", "state"] == "green"
    # Nothing at all yet: every layer waits, none is red and none is green.
    empty = health(_latest([]), settings, expected_since=now - 5, now=now)
    assert (empty["state"] == "waiting").all(), empty
    assert empty["detail"].str.startswith("esperando").all()
    # Still missing past the bound: red, and the detail says how long and what the bound is.
    late = health(_latest(fresh), settings, expected_since=now - 400, now=now, grace_s=180).set_index("layer")
    assert late.loc["Kafka", "state"] == "red" and "400 s (límite 180 s)" in late.loc["Kafka", "detail"], late
    assert late.loc["Iceberg", "state"] == "red" and late.loc["Fuente", "state"] == "green"
    # Unknown start time: a missing sample waits, it never fails on its own.
    assert health(_latest(fresh), settings).set_index("layer").loc["Kafka", "state"] == "waiting"


def test_health_thresholds_come_from_the_alert_rules():
    from dataops import alerts
    from dataops.monitor import health_thresholds

    rules = alerts.load_rules()
    limits = health_thresholds(rules)
    assert limits["topic_lag"] == (100.0, 1000.0) and limits["data_freshness"] == (60.0, 600.0)
    assert limits["api_error_rate"] == (0.5, 5.0)
    settings = load_settings(env_file="/nonexistent")
    lag = [("topic_lag", "", "", "crypto-explode", 300.0), ("topic_lag", "", "", "connect-crypto-prices-iceberg", 0.0)]
    assert health(_latest(lag), settings, thresholds=limits).set_index("layer").loc["Kafka", "state"] == "amber"
    stricter = [alerts.Rule(r.name, r.metric, condition=r.condition, op=r.op, value=200 if r.name == "processing_lag" else r.value,
                            window_s=r.window_s, severity=r.severity) if r.name in ("processing_lag", "stale_data", "api_failure") else r
                for r in rules]  # fmt: skip
    assert health(_latest(lag), settings, thresholds=health_thresholds(stricter)).set_index("layer").loc["Kafka", "state"] == "red"
    with pytest.raises(alerts.AlertConfigError, match="topic_lag"):
        health_thresholds([r for r in rules if r.name != "processing_lag"])


def test_delete_removes_a_metrics_series_and_samples_only(store):
    store.write([Sample("mine", 1.0, {"a": "1"}, 1.0), Sample("mine", 2.0, {"a": "2"}, 2.0), Sample("topic_lag", 3.0, {}, 3.0)])
    assert store.delete(["mine"]) == 2
    assert store.metrics() == ["topic_lag"] and len(store.query("topic_lag")) == 1
    assert store.delete(["mine"]) == 0 and store.delete([]) == 0
    store.write([Sample("mine", 5.0, {"a": "1"}, 5.0)])  # written again after the delete: a new series
    assert store.query("mine")["value"].tolist() == [5.0]
