"""The whole pipeline against the real stack: simulator → Connect → Kafka → Flink → Iceberg → DuckDB."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from dataops import DataOpsError
from tests.integration.helpers import connector_polls, expected_rows, last_seq, wait_for

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
    with pytest.raises(DataOpsError, match="table crypto.nope does not exist yet.*make up"):
        pipeline.iceberg.table("crypto.nope")


def test_bad_sql_is_one_line(pipeline):
    with pytest.raises(DataOpsError, match=r"DuckDB could not run the query: Parser Error.*check the SQL") as info:
        pipeline.sql("SELEC coin_id FROM crypto_prices_exploded")
    assert "\n" not in str(info.value)


def test_exactly_once_when_taskmanager_and_connect_worker_are_killed(pipeline):
    p = pipeline
    seq0 = last_seq(p)
    raw_start = p.kafka.end_offsets(p.settings.topic_raw)

    def new_raw_records(n):
        return lambda: len(p.kafka.read(p.settings.topic_raw, raw_start)) >= n

    wait_for(new_raw_records(2), 30, "polls to flow")
    assert p.stack.stop("flink-taskmanager", signal.SIGKILL)
    wait_for(new_raw_records(4), 40, "polls to keep flowing without a taskmanager")
    # Kill the worker right after a poll committed: the next poll is seconds away, so no
    # HTTP response is in flight (a response in memory at kill time cannot be replayed).
    committed = len(p.kafka.read(p.settings.topic_raw, raw_start))
    wait_for(new_raw_records(committed + 1), 30, "the next poll")
    assert p.stack.stop("connect", signal.SIGKILL)
    time.sleep(3)
    p.up(progress=False)  # restarts both, setup leaves the job and connectors alone
    wait_for(new_raw_records(committed + 3), 60, "polls after the restart")

    def enough_polls():  # at least 4 good polls since the start (restarts make polls land in bursts)
        polls = connector_polls(p, seq0)
        return polls if len(expected_rows(polls)) >= 5 * 4 else None

    expected = expected_rows(wait_for(enough_polls, 60, "4 good polls since the start"))

    def all_in_iceberg():
        keys = _table_keys(p)
        return keys if expected <= set(keys) else None

    keys = wait_for(all_in_iceberg, 120, "every served poll in Iceberg", step=2)
    since = min(ts for _, ts in expected)
    twice = {k: n for k, n in keys.items() if n > 1 and k[1] >= since}
    assert not twice, f"rows written twice: {list(twice)[:5]}"
    status = p.connect.status(p.settings.iceberg_connector_name)
    assert status["tasks"][0]["state"] == "RUNNING"


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
