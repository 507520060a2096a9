"""Metrics agree with the ground truth of each layer (real stack)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

import dataops
from dataops.metrics import MetricsStore
from dataops.monitor import Monitor
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture()
def monitor(pipeline, tmp_path):
    m = Monitor(pipeline.settings, store=MetricsStore(tmp_path / "metrics.db"))
    yield m
    m.stop()


def _value(samples, metric, **labels):
    found = [s.value for s in samples if s.metric == metric and all(s.labels.get(k) == v for k, v in labels.items())]
    assert found, f"no {metric} {labels} in the sample"
    return found[0]


def _total_end(p, topic):
    return sum(p.kafka.end_offsets(topic).values())


def test_messages_produced_equals_end_offset_growth(pipeline, monitor):
    topic = pipeline.settings.topic_raw
    b1 = _total_end(pipeline, topic)
    monitor.sample()
    a1 = _total_end(pipeline, topic)
    time.sleep(2.2 * pipeline.settings.poll_interval_s)
    b2 = _total_end(pipeline, topic)
    second = monitor.sample()
    a2 = _total_end(pipeline, topic)
    produced = _value(second, "messages_produced", topic=topic)
    assert b2 - a1 > 0, "no poll arrived during the window"
    assert b2 - a1 <= produced <= a2 - b1


def test_topic_lag_equals_end_minus_committed_for_a_paused_group(pipeline, monitor):
    topic = pipeline.settings.topic_raw
    group = f"test-paused-{uuid.uuid4().hex[:6]}"
    ends = pipeline.kafka.end_offsets(topic)
    committed = {p: max(e - 4, 0) for p, e in ends.items()}
    consumer = Consumer(pipeline.settings.kafka_config(**{"group.id": group, "enable.auto.commit": False}))
    consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in committed.items()], asynchronous=False)
    consumer.close()  # the group now consumes nothing: a paused consumer
    try:
        before = sum(pipeline.kafka.end_offsets(topic).values()) - sum(committed.values())
        samples = monitor.sample()
        table = pipeline.kafka.consumer_groups(group)
        after = sum(pipeline.kafka.end_offsets(topic).values()) - sum(committed.values())  # after both: a poll may land between
        lag = _value(samples, "topic_lag", group=group, topic=topic)
        assert before <= lag <= after
        assert before <= table["lag"].sum() <= after
    finally:  # a group left behind would keep processing_lag firing for the rest of the session
        admin = pipeline.kafka.admin()  # held: the future needs its client alive
        admin.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=15)


def test_connector_status_turns_failed_when_paused(pipeline, monitor):
    name = pipeline.settings.connector_name
    assert _value(monitor.sample(), "connector_status", connector=name) == 1.0
    pipeline.connect.pause(name)
    try:
        wait_for(lambda: pipeline.connect.status(name)["connector"]["state"] == "PAUSED", 30, "the pause")
        samples = monitor.sample()
        assert _value(samples, "connector_status", connector=name) == 0.0
        assert [s.labels["state"] for s in samples if s.metric == "connector_status" and s.labels["connector"] == name] == ["PAUSED"]
        assert _value(samples, "pipeline_availability") < 100
    finally:
        pipeline.connect.resume(name)
        wait_for(lambda: pipeline.connect.status(name)["connector"]["state"] == "RUNNING", 30, "the resume")


def test_data_freshness_grows_while_the_simulator_is_frozen(pipeline, monitor):
    interval = pipeline.settings.poll_interval_s
    pipeline.source.inject_fault("freeze", duration_s=6 * interval)
    try:
        time.sleep(2.5 * interval)  # the last pre-freeze prices reach the table
        f1 = _value(monitor.sample(), "data_freshness")
        time.sleep(2 * interval)
        f2 = _value(monitor.sample(), "data_freshness")
        assert f2 >= f1 + 1.5 * interval
    finally:
        pipeline.source.clear_faults()


def test_monitor_component_serves_prometheus_and_the_course_call_attaches(pipeline):
    s = pipeline.settings
    text = wait_for(
        lambda: (lambda t: t if "dataops_connector_status" in t else None)(
            requests.get(f"http://{s.host}:{s.monitor_port}/metrics", timeout=5).text
        ),
        30,
        "the monitor's first samples",
    )
    assert "# TYPE dataops_data_freshness_seconds gauge" in text
    monitor = dataops.start_monitoring(["crypto-prices", "crypto-prices-exploded"])
    try:
        assert monitor._thread is None  # the component samples; the notebook only reads
        assert {"connector_status", "topic_lag", "data_freshness"} <= set(monitor.latest()["metric"])
    finally:
        monitor.stop()


def test_a_monitor_started_before_the_topics_exist_reads_them_once_created(pipeline, tmp_path):
    """`up` starts the monitor before `pipeline setup` creates the topics: its tails must catch up."""
    import json

    from confluent_kafka import Producer

    topic = f"test-late-exploded-{uuid.uuid4().hex[:6]}"
    settings = pipeline.settings.model_copy(update={"topic_exploded": topic})
    m = Monitor(settings, topics=[settings.topic_raw, topic], store=MetricsStore(tmp_path / "metrics.db"))
    admin = pipeline.kafka.admin()
    try:
        m.sample()
        assert not m.samplers["rows"]._tails[topic].ready
        pipeline.kafka.ensure_topic(topic, 1, {})
        m.sample()  # the tail is rebuilt, positioned at the (empty) end
        assert m.samplers["rows"]._tails[topic].ready
        row = {"coin_id": "bitcoin", "usd": 95000.0, "usd_market_cap": 1.0, "usd_24h_vol": 1.0, "usd_24h_change": 0.1,
               "last_updated_at": int(time.time()), "event_time": "2026-01-01T00:00:00Z", "processed_at": "2026-01-01T00:00:01Z"}  # fmt: skip
        producer = Producer(settings.kafka_config())
        producer.produce(topic, json.dumps(row).encode())
        producer.flush(10)
        prices = wait_for(lambda: [s for s in m.sample() if s.metric == "price" and s.labels == {"coin": "bitcoin"}], 30, "the row")
        assert prices[0].value == 95000.0
    finally:
        m.stop()
        admin.delete_topics([topic], operation_timeout=10)[topic].result(timeout=15)


def test_a_flood_is_read_from_its_newest_records_and_the_rest_counted_as_skipped(pipeline):
    """After a backfill of days in seconds, a sample reads at most max_backlog records per partition."""
    from confluent_kafka import Producer

    from dataops.monitor.tail import _Tail

    topic = f"monitor-flood-{uuid.uuid4().hex[:8]}"
    pipeline.kafka.ensure_topic(topic, 1, {"retention.ms": "600000"})
    try:
        tail = _Tail(pipeline.settings, topic)
        producer = Producer(pipeline.settings.kafka_config())
        for i in range(3_000):
            producer.produce(topic, str(i).encode())
        producer.flush(30)
        got: list = []
        wait_for(lambda: got.extend(tail.drain(max_backlog=100)) or tail.skipped + len(got) >= 3_000, 30, "the flood to be seen")
        assert tail.skipped >= 2_000 and len(got) <= 1_000, (tail.skipped, len(got))
        assert got[-1].value() == b"2999"  # the newest records are the ones read
        producer.produce(topic, b"3000")
        producer.flush(10)
        after = wait_for(lambda: tail.drain(max_backlog=100), 10, "the next record")
        assert [m.value() for m in after] == [b"3000"]  # a quiet topic is read record by record again
        tail.close()
    finally:
        pipeline.kafka.delete_topic(topic)
