"""The per-layer inspectors (source, Flink, Iceberg) against the running local stack."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import pytest

from dataops import DataOpsError
from dataops.contract import load_contract
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

MISSING = "crypto.nope"


def _one_line(exc: pytest.ExceptionInfo) -> str:
    """The error's text, checked to be one line with no chained traceback."""
    err = exc.value
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    text = str(err)
    assert "\n" not in text
    return text


# ---- source -------------------------------------------------------------------
def test_source_requests_show_the_connectors_polls(pipeline):
    p = pipeline
    query = urlsplit(p.settings.price_url()).query

    def polls():
        recent = p.source.requests(last=20)
        return recent[(recent["path"] == "/api/v3/simple/price") & (recent["query"] == query) & (recent["status"] == 200)]

    wait_for(polls, 3 * p.settings.poll_interval_s + 5, "a 200 poll of the connector")
    recent = p.source.requests(last=10)
    assert list(recent.columns) == ["seq", "ts", "path", "query", "status", "latency_ms", "faults"]
    assert 1 <= len(recent) <= 10
    assert recent["seq"].is_monotonic_decreasing and recent["seq"].is_unique
    assert (recent["latency_ms"] >= 0).all()
    assert str(recent["ts"].dtype).startswith("datetime64") and recent["ts"].dt.tz is not None
    # The newest entry is recent: the connector polls every few seconds.
    assert pd.Timestamp.now(tz="UTC") - recent["ts"].iloc[0] < pd.Timedelta(seconds=60)


def test_source_current_prices_is_the_price_view(pipeline):
    prices = pipeline.source.current_prices()
    assert set(prices["coin_id"]) == set(pipeline.source.coins())
    assert (prices["price"] > 0).all()


# ---- Flink --------------------------------------------------------------------
def test_flink_job_details_show_a_healthy_explode_job(pipeline):
    p = pipeline
    name = p.settings.flink_job_name

    def healthy():
        d = p.flink.job_details()
        row = d.iloc[0]
        ok = row["state"] == "RUNNING" and row["records_out"] > 0 and row["checkpoints_completed"] >= 1
        return d if ok else None

    details = wait_for(healthy, 30, f"{name} RUNNING with records out and a checkpoint")
    assert len(details) == 1
    row = details.iloc[0]
    assert row["name"] == name
    assert row["jid"] == p.flink.live_job(name)["jid"]
    assert row["uptime_s"] > 0 and row["restarts"] >= 0
    assert row["records_in"] > 0
    # Every good poll explodes into one row per coin.
    assert row["records_out"] >= row["records_in"]
    assert row["backpressure"] in {"ok", "low", "high"} and 0.0 <= row["backpressure_ratio"] <= 1.0
    assert row["last_checkpoint_id"] >= 1 and row["last_checkpoint_size_bytes"] > 0
    assert row["last_checkpoint_duration_ms"] >= 0
    interval_s = p.settings.flink_checkpoint_interval_s
    assert pd.Timestamp.now(tz="UTC") - row["last_checkpoint_at"] < pd.Timedelta(seconds=interval_s * 10 + 30)
    # By id, the same job.
    assert p.flink.job_details(row["jid"]).iloc[0]["jid"] == row["jid"]


def test_flink_vertices_name_the_kafka_source_and_both_sinks(pipeline):
    vertices = pipeline.flink.vertices()
    assert len(vertices) >= 1
    assert (vertices["status"] == "RUNNING").all() and (vertices["parallelism"] >= 1).all()
    sources = ", ".join(vertices["sources"])
    sinks = ", ".join(vertices["sinks"])
    assert "raw_polls" in sources and "(kafka)" in sources
    assert "exploded" in sinks and "dead_letters" in sinks
    assert sinks.count("(kafka)") == 2
    exploded = vertices[vertices["sinks"].str.contains("exploded")].iloc[0]
    assert exploded["records_sent"] > 0
    assert vertices["backpressure"].isin(["ok", "low", "high"]).all()


def test_flink_checkpoint_history_is_newest_first(pipeline):
    p = pipeline
    last_id = p.flink.job_details().iloc[0]["last_checkpoint_id"]
    history = p.flink.checkpoint_history()
    assert len(history) >= 1
    assert history["checkpoint_id"].is_monotonic_decreasing
    assert history["checkpoint_id"].iloc[0] >= last_id
    done = history[history["status"] == "COMPLETED"]
    assert len(done) >= 1
    assert (done["completed_at"] >= done["triggered_at"]).all()
    assert (done["acked_subtasks"] == done["subtasks"]).all()
    assert done["path"].str.contains(r"chk-\d+$").all()


def test_unknown_flink_job_is_one_line_listing_the_jobs(pipeline):
    with pytest.raises(DataOpsError) as exc:
        pipeline.flink.job_details("no-such-job")
    text = _one_line(exc)
    assert "no hay ningún job de Flink llamado 'no-such-job'" in text
    assert f"{pipeline.settings.flink_job_name} (RUNNING)" in text
    with pytest.raises(DataOpsError, match="no hay ningún job de Flink llamado 'no-such-job'"):
        pipeline.flink.vertices("no-such-job")


# ---- Iceberg ------------------------------------------------------------------
def test_iceberg_files_sum_to_the_row_count(pipeline):
    ice = pipeline.iceberg
    for _ in range(5):  # a commit may land between the two reads: retry on a moving table
        before = ice.row_count()
        files = ice.files()
        if ice.row_count() == before:
            break
    else:
        pytest.fail("the table committed during every attempt")
    assert before > 0
    assert int(files["records"].sum()) == before
    assert (files["records"] > 0).all() and (files["size_bytes"] > 0).all()
    assert files["path"].str.endswith(".parquet").all() and files["path"].is_unique
    # a file's adding snapshot may have expired (`dataops maintain` keeps an hour): then its time is unknown
    kept = files["snapshot_id"].isin(set(ice.snapshots()["snapshot_id"]))
    assert kept.any() and files.loc[kept, "added_at"].notna().all() and files.loc[~kept, "added_at"].isna().all()
    assert files["sequence_number"].is_monotonic_increasing


def test_iceberg_schema_history_has_the_eight_columns(pipeline):
    history = pipeline.iceberg.schema_history()
    current = history[history["current"]]
    expected = {f.name: f.field_id for f in load_contract().iceberg_schema().fields}
    assert len(expected) == 8
    assert dict(zip(current["name"], current["field_id"])) == expected
    assert current["schema_id"].nunique() == 1
    assert dict(zip(current["name"], current["type"]))["event_time"] == "timestamptz"


def test_iceberg_last_commit_is_recent_while_polls_flow(pipeline):
    p = pipeline
    # Wait for a commit after this test started, then the age must be small.
    start = p.iceberg.row_count()
    wait_for(lambda: p.iceberg.row_count() > start, 4 * p.settings.poll_interval_s + 20, "a new Iceberg commit")
    age = p.iceberg.last_commit_age_s()
    assert 0.0 <= age < 60.0


def test_iceberg_materialization_lag_covers_every_partition(pipeline):
    p = pipeline
    ends_before = p.kafka.end_offsets(p.settings.topic_exploded)
    lag = p.iceberg.materialization_lag()
    assert list(lag.columns) == ["topic", "partition", "covered", "end_offset", "lag", "last_commit_at", "valid_through"]
    assert set(lag["partition"]) == set(range(p.settings.topic_partitions))
    assert (lag["topic"] == p.settings.topic_exploded).all()
    assert (lag["lag"] >= 0).all() and (lag["covered"] <= lag["end_offset"]).all()
    assert (lag["covered"] > 0).all()
    # Small: a few checkpoints' worth of rows per partition at most.
    assert (lag["lag"] <= 100).all(), lag
    assert lag["last_commit_at"].notna().all() and lag["valid_through"].notna().all()
    assert (lag["valid_through"] <= lag["last_commit_at"] + pd.Timedelta(seconds=5)).all()

    # The sink catches up: what was in the topic a moment ago gets covered (the last
    # transaction marker of an idle partition is never "consumed", hence the - 1).
    def caught_up():
        now = p.iceberg.materialization_lag().set_index("partition")
        return all(now.loc[part, "covered"] >= end - 1 for part, end in ends_before.items())

    wait_for(caught_up, 4 * p.settings.iceberg_commit_interval_s + 20, "the sink to cover the earlier end offsets")


def test_missing_table_is_one_clear_line_for_every_iceberg_inspector(pipeline):
    ice = pipeline.iceberg
    for inspect in (ice.files, ice.schema_history, ice.last_commit_age_s, ice.materialization_lag):
        with pytest.raises(DataOpsError) as exc:
            inspect(MISSING)
        text = _one_line(exc)
        assert f"la tabla {MISSING} aún no existe" in text and "make up" in text


def test_a_layer_that_is_down_is_one_line_naming_it():
    from dataops.errors import ServiceUnavailableError
    from dataops.flink.layer import FlinkLayer
    from dataops.source import SimulatorLayer

    for call, component in (
        (lambda: FlinkLayer("http://127.0.0.1:1", timeout=2).job_details(), "Flink"),
        (lambda: SimulatorLayer("http://127.0.0.1:1", timeout=2).requests(), "el simulador de CoinGecko"),
    ):
        with pytest.raises(ServiceUnavailableError) as exc:
            call()
        assert _one_line(exc).startswith(f"{component} no responde en http://127.0.0.1:1")
