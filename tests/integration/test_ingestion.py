"""Ingestion against the real stack: simulator → Connect HTTP source → crypto-prices."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.helpers import connector_polls as _connector_polls
from tests.integration.helpers import digest as _digest
from tests.integration.helpers import wait_for as _wait

pytestmark = pytest.mark.integration


def test_status_shows_every_component_up(pipeline):
    status = pipeline.status()
    assert list(status.columns) == ["component", "pid", "port", "health", "uptime", "address", "memory"]
    assert set(status["component"]) == {"simulator", "kafka", "connect", "flink-jobmanager", "flink-taskmanager", "monitor"}
    assert (status["health"] == "up").all(), status
    assert status["pid"].notna().all()
    assert set(status["memory"]) <= {"normal", "low"}, status


def test_setup_is_idempotent(pipeline):
    again = pipeline.setup()
    assert set(again["action"]) == {"exists", "unchanged", "running (RUNNING)"}, again


def test_topic_has_the_course_settings(pipeline):
    from confluent_kafka.admin import ConfigResource

    admin = pipeline.kafka.admin()
    md = admin.list_topics(timeout=10)
    assert len(md.topics["crypto-prices"].partitions) == 3
    res = ConfigResource("TOPIC", "crypto-prices")
    conf = admin.describe_configs([res])[res].result(timeout=10)
    assert conf["retention.ms"].value == str(7 * 24 * 3600 * 1000)


def test_a_poll_reaches_the_topic_exactly_as_served(pipeline):
    seq0 = max(pipeline.source.last_seq() - 20, 0)  # a margin: a poll served just before may land just after
    start = pipeline.kafka.end_offsets("crypto-prices")

    def new_records():
        return pipeline.kafka.read("crypto-prices", start)

    records = _wait(new_records, 30, "a new record in crypto-prices")
    served = _connector_polls(pipeline, seq0)
    ok = served[served["status"] == 200]
    by_digest = dict(zip(ok["digest"], ok["body"]))
    for record in records:
        assert _digest(record.value) in by_digest, "a record that the simulator never served"
        assert record.value == by_digest[_digest(record.value)]
    # One record per poll: the whole body, one JSON object keyed by coin.
    payload = json.loads(records[-1].value)
    assert set(payload) == set(pipeline.settings.coins)
    assert {"usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change", "last_updated_at"} <= set(payload["bitcoin"])


def test_rate_limit_and_outage_skip_polls_without_killing_the_task(pipeline):
    p = pipeline
    name = p.settings.connector_name
    start = p.kafka.end_offsets("crypto-prices")
    seq0 = p.source.last_seq()
    interval = p.settings.poll_interval_s

    # a 429 carries Retry-After (the rest of the fault), so the connector waits: one refused poll
    for fault, status_code, refused in (("rate_limit", 429, 1), ("outage", 503, 2)):
        p.source.inject_fault(fault, duration_s=2.5 * interval)
        _wait(
            lambda: (_connector_polls(p, seq0)["status"] == status_code).sum() >= refused,
            6 * interval,
            f"{refused} poll(s) answered by the {fault} fault",
        )
        status = p.connect.status(name)
        assert status["connector"]["state"] == "RUNNING"
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"]
        _wait(lambda: p.source.faults().empty, 4 * interval, f"the {fault} fault to end")

    # polling resumes: two more good polls after the faults
    seq_after = p.source.last_seq()
    _wait(lambda: (_connector_polls(p, seq_after)["status"] == 200).sum() >= 2, 6 * interval, "polls to resume")
    time.sleep(2)  # let the last transaction commit

    records = p.kafka.read("crypto-prices", start)
    digests = [_digest(r.value) for r in records]
    assert len(digests) == len(set(digests)), "a poll was written twice"
    every = _connector_polls(p, max(seq0 - 20, 0))
    assert set(digests) <= set(every.loc[every["status"] == 200, "digest"]), "a record that no 200 poll served"
    polls = _connector_polls(p, seq0)
    assert not (set(digests) & set(polls.loc[polls["status"] != 200, "digest"])), "a failed poll reached the topic"
    # every good poll of the window reached the topic (the last one may still be in flight)
    window = polls.loc[polls["status"] == 200, "digest"].tolist()
    assert set(window[:-1]) <= set(digests), "an accepted poll is missing from the topic"
