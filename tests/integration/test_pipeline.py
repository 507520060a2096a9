"""The whole pipeline against the real stack: simulator → Connect → Kafka → Flink → Iceberg → DuckDB."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from dataops import DataOpsError
from tests.integration.helpers import account, connector_polls, copies_by_layer, expected_rows, last_seq, pipeline_state, polls_after, wait_for

pytestmark = pytest.mark.integration


def _table_keys(p) -> Counter:
    rows = p.iceberg.read(columns=("coin_id", "last_updated_at"))
    return Counter(zip(rows["coin_id"], rows["last_updated_at"].astype(int)))


def test_a_served_price_is_queryable_in_duckdb_with_the_same_values(pipeline):
    p = pipeline
    seq0 = last_seq(p)
    polls = wait_for(lambda: connector_polls(p, seq0).query("status == 200"), 30, "a poll")
    served = json.loads(polls.loc[polls["status"] == 200, "body"].iloc[0])
    btc = served["bitcoin"]

    query = f"SELECT * FROM crypto_prices_exploded WHERE coin_id = 'bitcoin' AND last_updated_at = {btc['last_updated_at']}"
    found = wait_for(lambda: p.sql(query), 60, "the served bitcoin price in DuckDB")
    assert len(found) == 1
    got = found.iloc[0]
    assert got["usd"] == btc["usd"]
    assert got["usd_market_cap"] == btc["usd_market_cap"]
    assert got["usd_24h_vol"] == btc["usd_24h_vol"]
    assert got["usd_24h_change"] == btc["usd_24h_change"]
    assert int(got["event_time"].timestamp()) == btc["last_updated_at"]


def test_course_analytics_run(pipeline):
    per_coin = pipeline.duck.per_coin()
    assert set(per_coin["coin_id"]) == set(pipeline.settings.coins)
    assert (per_coin["records"] > 0).all() and (per_coin["first_event"] <= per_coin["last_event"]).all()
    trends = pipeline.duck.trends(10)
    assert set(trends["direction"]) <= {"up", "down", "flat"}
    assert (trends["window_start"].dt.minute % 10 == 0).all()


def test_catalog_lists_the_exploded_table(pipeline):
    tables = pipeline.iceberg.tables()
    assert ("crypto", "crypto.crypto_prices_exploded") in set(zip(tables["namespace"], tables["table"]))


def test_missing_table_is_one_clear_line(pipeline):
    with pytest.raises(DataOpsError, match="la tabla crypto.nope aún no existe.*make up"):
        pipeline.iceberg.table("crypto.nope")


def test_bad_sql_is_one_line(pipeline):
    with pytest.raises(DataOpsError, match=r"DuckDB no pudo ejecutar la consulta: Parser Error.*revisa el SQL") as info:
        pipeline.sql("SELEC coin_id FROM crypto_prices_exploded")
    assert "\n" not in str(info.value)


def test_exactly_once_when_the_broker_jobmanager_taskmanager_and_connect_are_killed(pipeline):
    """kill -9 each in turn mid-stream, restart with `up`: every served row lands once, with its price.
    The Connect worker is killed right after a committed poll (nothing in flight: see the next test)."""
    p = pipeline
    seq0 = p.source.last_seq()
    seq = polls_after(p, seq0, 2, 30, "polls to flow")
    for name in ("kafka", "flink-jobmanager", "flink-taskmanager", "connect"):
        if name == "connect":  # right after a poll committed: the next one is seconds away
            raw_end = p.kafka.end_offsets(p.settings.topic_raw)
            wait_for(lambda: p.kafka.end_offsets(p.settings.topic_raw) != raw_end, 30, "a poll to commit")
        assert p.stack.stop(name, signal.SIGKILL), name
        time.sleep(2)
        p.up(progress=False)
        seq = polls_after(p, seq, 2, 90, f"polls after the {name} kill")
    result = account(p, seq0, seq)
    assert result.exact, (f"lost {result.lost.head(6).to_dict('records')}, repeated {result.repeated.head(3).to_dict('records')} "
                          f"({copies_by_layer(p, result.repeated.head(3))}), "
                          f"changed {result.changed.head(3).to_dict('records')}; {pipeline_state(p)}")  # fmt: skip
    status = p.connect.status(p.settings.iceberg_connector_name)
    assert status["tasks"][0]["state"] == "RUNNING"


def test_a_connect_kill_with_a_poll_in_flight_loses_that_poll_at_most(pipeline):
    """The one loss the pipeline admits: an API answer in the killed worker's memory. Nothing else."""
    p = pipeline
    seq0 = p.source.last_seq()
    interval = p.settings.poll_interval_s
    p.source.inject_fault("latency", duration_s=4 * interval, delay_s=interval * 0.6)
    try:
        def slow_polls():
            polls = connector_polls(p, seq0)
            return polls[(polls["status"] == 200) & (polls["faults"].map(len) > 0)]

        slow = wait_for(slow_polls, 3 * interval, "a slow poll")
        answered = slow["ts"].iloc[0].timestamp()
        # the next request starts interval - delay after that answer and waits delay: kill halfway
        time.sleep(max(answered + interval * 0.4 + interval * 0.3 - time.time(), 0))
        assert p.stack.stop("connect", signal.SIGKILL)
    finally:
        p.source.clear_faults()
    time.sleep(2)
    p.up(progress=False)
    seq = polls_after(p, p.source.last_seq(), 2, 90, "polls after the restart")
    result = account(p, seq0, seq, timeout=60)
    assert result.repeated.empty and result.changed.empty
    assert result.lost["seq"].nunique() <= 1, (result.lost.head(10).to_dict("records"), pipeline_state(p))  # at most the poll in flight


def test_poison_polls_go_to_the_dlq_and_good_polls_flow(pipeline):
    p = pipeline
    interval = p.settings.poll_interval_s
    dlq_start = p.kafka.end_offsets(p.settings.topic_dlq)
    seq0 = last_seq(p)
    wait_for(lambda: (connector_polls(p, seq0)["status"] == 200).sum() >= 1, 30, "a good poll before")
    for fault, params in (("malformed", {}), ("schema_drift", {"mode": "rename"}), ("schema_drift", {"mode": "retype"})):
        p.source.inject_fault(fault, duration_s=interval * 1.5, **params)
        wait_for(lambda: (connector_polls(p, seq0)["faults"].map(lambda f: fault in f)).any(), 4 * interval, fault)
        wait_for(lambda: p.source.faults().empty, 4 * interval, f"{fault} to end")
    seq_after = last_seq(p)
    wait_for(lambda: (connector_polls(p, seq_after)["status"] == 200).sum() >= 1, 30, "a good poll after")

    def dlq_reasons():
        records = p.kafka.read(p.settings.topic_dlq, dlq_start)
        reasons = {json.loads(r.value)["reason"] for r in records}
        needed = {"unparseable_json", "missing_or_null:usd", "not_a_number:usd"}
        return reasons if needed <= reasons else None

    wait_for(dlq_reasons, 60, "malformed and drifted polls in the DLQ")
    letters = [json.loads(r.value) for r in p.kafka.read(p.settings.topic_dlq, dlq_start)]
    assert all(d["raw"] and d["src_topic"] == p.settings.topic_raw and d["src_offset"] >= 0 for d in letters), letters[:2]

    polls = connector_polls(p, seq0)
    good = polls[polls["faults"].map(len) == 0]
    expected = expected_rows(good)
    wait_for(lambda: expected <= set(_table_keys(p)), 90, "the good polls around the poison in Iceberg", step=2)
    # The poisoned polls produced no row: every (coin, last_updated_at) a drifted poll carried is
    # absent from the table, unless a good poll served the same key.
    poisoned = _any_keys(polls[(polls["faults"].map(len) > 0) & (polls["status"] == 200)]) - expected
    assert poisoned, "the drifted polls carried no key to look for"
    assert not (poisoned & set(_table_keys(p)))


def _any_keys(polls) -> set[tuple[str, int]]:
    """(coin_id, last_updated_at) of every coin entry that has a timestamp, valid or not."""
    keys = set()
    for body in polls["body"]:
        try:
            payload = json.loads(body)
        except (TypeError, json.JSONDecodeError):
            continue
        for coin, entry in payload.items():
            if isinstance(entry, dict) and isinstance(entry.get("last_updated_at"), int):
                keys.add((coin, entry["last_updated_at"]))
    return keys


def test_a_source_task_restarted_with_a_poll_unsent_sends_it_once(pipeline):
    """The broker frozen while a poll waits to be sent; the source task restarted in the same worker
    meanwhile: the new task holds the kept poll until it can read the committed offset, then sends it
    (or drops it if the old transaction turned out committed). Every served row lands once."""
    import requests

    p = pipeline
    seq0 = polls_after(p, p.source.last_seq(), 1, 30, "a poll before")
    assert p.stack.pause(["kafka"]) == ["kafka"]
    try:
        polls_after(p, p.source.last_seq(), 1, 3 * p.settings.poll_interval_s, "a poll served while the broker is frozen")
        url = f"{p.connect.url}/connectors/{p.settings.connector_name}/tasks/0/restart"
        answer = requests.post(url, timeout=60)
        assert answer.status_code in (200, 202, 204, 409), answer.text
    finally:
        p.stack.resume(["kafka"])
    seq = polls_after(p, p.source.last_seq(), 2, 120, "polls after the broker thawed")
    result = account(p, seq0, seq)
    assert result.exact, (f"lost {result.lost.head(6).to_dict('records')}, repeated {result.repeated.head(3).to_dict('records')} "
                          f"({copies_by_layer(p, result.repeated.head(3))}); {pipeline_state(p)}")  # fmt: skip
    said = p.stack.logs("connect", 400)
    assert "HTTP source holding" in said or "turned out committed" in said, said[-2000:]
