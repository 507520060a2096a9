"""Unit tests of dataops.quality on crafted polls and rows (no services)."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from dataops.errors import ConfigError
from dataops.quality import (
    Check,
    QualityReport,
    Suite,
    SuiteError,
    explode_polls,
    frozen_runs,
    load_suite,
    run_on_table,
    run_on_topic,
    run_suite,
    validate,
)

T0 = 1_750_000_000
NOW = pd.Timestamp(T0 + 300, unit="s", tz="UTC")
BASE = {"bitcoin": 95_000.0, "ethereum": 3_500.0, "binancecoin": 650.0, "cardano": 0.75, "solana": 180.0}


def poll(i: int = 0, frozen: set[str] = frozenset(), quiet: bool = False, **over: float) -> dict:
    """One well-formed poll; prices move by poll index unless frozen/quiet."""
    out = {}
    for coin, price in BASE.items():
        p = price if (coin in frozen or quiet) else price * (1 + 0.001 * i)
        p = over.get(coin, p)
        out[coin] = {
            "usd": p,
            "usd_market_cap": p * 1e6,
            "usd_24h_vol": p * 1e4,
            "usd_24h_change": 1.5,
            "last_updated_at": T0 + 30 * i,
        }
    return out


def polls(n: int = 6, **kw) -> list[dict]:
    return [poll(i, **kw) for i in range(n)]


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite()


class _Row:
    def __init__(self, data: dict) -> None:
        self.__dict__.update(data)


def result(report: QualityReport, name: str) -> _Row:
    return _Row(report.results.set_index("check").loc[name].to_dict())


def rows_of(items: list[dict]) -> pd.DataFrame:
    frame = explode_polls(items).drop(columns="poll")
    frame["processed_at"] = frame["event_time"] + pd.Timedelta(seconds=2)
    return frame


def test_good_polls_and_rows_pass_everything(suite: Suite) -> None:
    items = polls()
    report = run_suite(suite, polls=[json.dumps(p) for p in items], rows=rows_of(items), now=NOW)
    assert report.passed, report.failures().to_dict("records")
    assert report.score == 100.0
    assert set(report.results["dataset"]) == {"raw_poll", "exploded_row"}


def test_truncated_json_is_a_schema_failure_not_an_exception(suite: Suite) -> None:
    good = json.dumps(poll(0))
    report = run_suite(suite, polls=[good, good[: len(good) // 2]], now=NOW)
    r = result(report, "raw_schema")
    assert not r.passed and r.failing_rows == 1
    assert "unparseable JSON" in r.sample


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda e: e.update(usd_price=e.pop("usd")), "'usd' is a required property"),  # renamed field
        (lambda e: e.update(usd=str(e["usd"])), "is not of type 'number'"),  # retyped field
        (lambda e: e.update(last_updated_at="2025-06-15T00:00:00+00:00"), "is not of type 'integer'"),
    ],
)
def test_schema_drift_is_caught(suite: Suite, mutate, needle: str) -> None:
    items = polls(3)
    bad = copy.deepcopy(items[1])
    mutate(bad["ethereum"])
    report = run_suite(suite, polls=[items[0], bad, items[2]], now=NOW)
    r = result(report, "raw_schema")
    assert not r.passed and r.failing_rows == 1 and needle in r.sample
    # the drifted field becomes null in the exploded view, so completeness fails too
    assert not result(report, "raw_completeness").passed


def test_validator_draft_2020_12() -> None:
    schema = {"type": "object", "required": ["a"], "additionalProperties": False,
              "properties": {"a": {"type": ["integer", "null"], "minimum": 0}}}  # fmt: skip
    assert validate({"a": 3}, schema) == []
    assert validate({"a": None}, schema) == []
    assert validate({"a": -1}, schema) == ["$.a: -1 is less than the minimum of 0"]
    assert validate({"a": True}, schema) == ["$.a: True is not of type 'integer', 'null'"]
    assert validate({"a": float("nan")}, schema) == ["$.a: nan is not of type 'integer', 'null'"]  # JSON has no NaN
    assert validate({"b": 1}, schema) == ["$: 'a' is a required property", "$: Additional properties are not allowed ('b' was unexpected)"]
    assert validate({"t": "ayer"}, {"properties": {"t": {"format": "date-time"}}}) == ["$.t: 'ayer' is not a 'date-time'"]


def test_row_schema_catches_wrong_type_and_missing_column(suite: Suite) -> None:
    rows = rows_of(polls(2))
    rows["usd"] = rows["usd"].astype(object)
    rows.loc[0, "usd"] = "95000"
    report = run_suite(suite, rows=rows, now=NOW)
    assert result(report, "row_schema").failing_rows == 1
    report = run_suite(suite, rows=rows_of(polls(2)).drop(columns="usd_24h_vol"), now=NOW)
    r = result(report, "row_schema")
    assert not r.passed and "usd_24h_vol" in r.sample


def test_freshness(suite: Suite) -> None:
    items = polls(3)
    assert result(run_suite(suite, polls=items, now=NOW), "raw_freshness").passed
    late = NOW + pd.Timedelta(minutes=30)
    report = run_suite(suite, polls=items, rows=rows_of(items), now=late)
    for name in ("raw_freshness", "row_freshness"):
        r = result(report, name)
        assert not r.passed and "antigüedad" in r.message
    assert not result(run_suite(suite, rows=rows_of(items).iloc[0:0], now=NOW), "row_freshness").passed


def test_value_ranges_price_zero(suite: Suite) -> None:
    items = polls(3)
    items[2] = poll(2, bitcoin=0.0)
    report = run_suite(suite, polls=items, rows=rows_of(items), now=NOW)
    for name in ("raw_value_ranges", "row_value_ranges"):
        r = result(report, name)
        assert not r.passed and r.failing_rows == 1 and "bitcoin=0.0" in r.sample
    assert result(run_suite(suite, polls=polls(3), now=NOW), "raw_value_ranges").passed


def test_missing_coin_fails_completeness(suite: Suite) -> None:
    items = polls(3)
    del items[1]["cardano"]
    report = run_suite(suite, polls=items, rows=rows_of(items), now=NOW)
    for name in ("raw_completeness", "row_completeness"):
        r = result(report, name)
        assert not r.passed and "cardano" in r.sample
    assert result(report, "raw_schema").passed  # a missing coin is still a valid poll


def test_null_share_below_min_pct(suite: Suite) -> None:
    rows = rows_of(polls(4))
    rows.loc[rows.index[:3], "usd"] = None
    r = result(run_suite(suite, rows=rows, now=NOW), "row_completeness")
    assert not r.passed and r.failing_rows == 3 and "% de campos presentes" in r.message


def test_duplicates(suite: Suite) -> None:
    rows = rows_of(polls(3))
    assert result(run_suite(suite, rows=rows, now=NOW), "row_duplicates").passed
    doubled = pd.concat([rows, rows.iloc[:2]], ignore_index=True)
    r = result(run_suite(suite, rows=doubled, now=NOW), "row_duplicates")
    assert not r.passed and r.failing_rows == 2 and "coin_id=bitcoin" in r.sample


def test_frozen_coin_while_market_moves_is_flagged(suite: Suite) -> None:
    items = polls(6, frozen={"solana"})
    report = run_suite(suite, polls=items, rows=rows_of(items), now=NOW)
    for name in ("raw_frozen_prices", "row_frozen_prices"):
        r = result(report, name)
        assert not r.passed and r.failing_rows == 6 and "solana" in r.sample


def test_quiet_market_and_short_runs_are_not_false_alarms(suite: Suite) -> None:
    quiet = polls(6, quiet=True)  # nothing moves at all: not a frozen coin
    assert result(run_suite(suite, polls=quiet, now=NOW), "raw_frozen_prices").passed
    short = [poll(0), poll(1, frozen={"solana"}), poll(2, frozen={"solana"}), poll(3), poll(4), poll(5)]
    short[1]["solana"]["usd"] = short[2]["solana"]["usd"] = 181.0  # one quiet stretch of 2 polls
    assert result(run_suite(suite, polls=short, now=NOW), "raw_frozen_prices").passed


def test_too_few_records_is_no_data_not_a_pass_or_a_fail(suite: Suite) -> None:
    few = run_suite(suite, polls=polls(4, frozen={"solana"}), now=NOW)  # 4 polls: a 5-poll run cannot exist yet
    r = result(few, "raw_frozen_prices")
    assert r.status == "no_data" and not r.passed and "4 polls" in r.message
    assert result(few, "raw_schema").status == "passed" and not few.enough_data
    assert few.score == 100.0 and few.passed and len(few.failures()) == 0  # judged on the checks that could run
    nothing = run_suite(suite, polls=[], rows=rows_of(polls(6)).iloc[0:0], now=NOW)
    assert set(nothing.results["status"]) == {"no_data"} and len(nothing.results) == 11
    assert math.isnan(nothing.score) and not nothing.passed and "sin datos" in repr(nothing)


def timed(items: list[dict], step_s: float = 30.0) -> list:
    """Polls as Kafka-like records (``value`` + ``timestamp_ms``), one every ``step_s``."""
    return [SimpleNamespace(value=json.dumps(p), timestamp_ms=int((T0 + step_s * i) * 1000)) for i, p in enumerate(items)]


def test_whole_market_frozen_is_flagged_once_it_lasts_max_static_s(suite: Suite) -> None:
    frozen = [poll(0)] * 6  # the same snapshot, timestamps included, re-served every poll
    r = result(run_suite(suite, polls=timed(frozen, 30), now=NOW), "raw_frozen_prices")  # 150 s still
    assert not r.passed and r.failing_rows == 30 and "(150 s)" in r.sample
    assert result(run_suite(suite, polls=timed(frozen, 5), now=NOW), "raw_frozen_prices").passed  # 25 s: normal
    runs = frozen_runs(explode_polls(timed(frozen, 30)), max_static_s=90)
    assert set(runs["reason"]) == {"time_passes"} and runs["ongoing"].all() and len(runs) == 5


def test_frozen_rows_with_repeated_event_time_are_ordered_by_processed_at(suite: Suite) -> None:
    items = [*polls(3), *[poll(3, frozen={"solana"})] * 3, *polls(3)]  # solana re-served with its old timestamp
    for i in range(3, 6):
        items[i] = poll(i, frozen={"solana"})
        items[i]["solana"] = dict(items[2]["solana"])
    rows = explode_polls(items).drop(columns=["poll", "poll_time"])
    rows["processed_at"] = pd.Timestamp(T0, unit="s", tz="UTC") + pd.to_timedelta(rows.index // 5 * 30, unit="s")
    runs = frozen_runs(rows, min_polls=4)
    assert list(runs["coin_id"]) == ["solana"] and runs["polls"].tolist() == [4]
    assert runs["reason"].tolist() == ["market_moves"] and not runs["ongoing"].any()
    assert frozen_runs(rows, min_polls=5).empty


def test_a_short_global_freeze_is_not_mistaken_for_coins_frozen_while_others_move() -> None:
    items = [*polls(3), *[poll(2)] * 4]  # the API re-serves poll 2 four times: 25 s of stillness
    rows = explode_polls(items).drop(columns=["poll", "poll_time"])
    jitter = rows.groupby(rows.index // 5).cumcount() * 0.003  # rows of one poll are written ms apart
    rows["processed_at"] = pd.to_datetime(T0 + 5 * (rows.index // 5) + jitter, unit="s", utc=True)
    assert frozen_runs(rows, min_polls=5, max_static_s=90).empty
    assert len(frozen_runs(rows, min_polls=5, max_static_s=20)) == 5  # every coin, once it lasts long enough


def test_suite_collects_every_failure_in_one_table(suite: Suite) -> None:
    good = polls(6, frozen={"solana"})
    good[3] = poll(3, frozen={"solana"}, bitcoin=0.0)
    del good[4]["cardano"]
    items = [*good, '{"bitcoin": {"usd": 1']
    report = run_suite(suite, polls=items, now=NOW + pd.Timedelta(hours=1))
    assert list(report.results.columns) == ["check", "dataset", "type", "status", "passed", "failing_rows", "sample", "message"]
    assert set(report.results["status"]) == {"failed"}
    assert len(report.results) == 5 and not report.results["passed"].any()
    assert report.score == 0.0 and report.score < 80
    assert len(report.failures()) == 5 and "score=0.0%" in repr(report)
    half = run_suite(suite, polls=polls(6), rows=rows_of(polls(6)).iloc[0:0], now=NOW)
    assert half.score == 100.0  # empty rows: their checks lack data, they neither pass nor fail
    assert set(half.results.loc[half.results["dataset"] == "exploded_row", "status"]) == {"no_data"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("raw_poll: [name: x, type: schema\n  bad", "YAML mal formado"),
        ("raw_poll:\n  - {name: x, type: magic}\n", "tipo de check desconocido 'magic'"),
        ("raw_pol:\n  - {name: x, type: schema}\n", "claves desconocidas"),
        ("raw_poll:\n  - {type: schema}\n", "necesita `name` y `type`"),
        ("- just a list\n", "debe ser un mapping"),
    ],
)
def test_malformed_suite_is_one_line_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    assert isinstance(err.value, ConfigError)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_bad_parameter_fails_its_check_only() -> None:
    suite = Suite((Check("f", "freshness", "raw_poll", {}), Check("d", "duplicate", "raw_poll", {})), ("bitcoin",))
    report = run_suite(suite, polls=[poll(0)], now=NOW)
    assert report.results["passed"].tolist() == [False, True]
    assert "no pudo ejecutarse" in report.results.loc[0, "message"]


def test_thin_wrappers_with_fakes(suite: Suite) -> None:
    items = polls(3)

    class FakeKafka:
        def latest(self, topic: str, n: int = 1) -> pd.DataFrame:
            assert topic == "crypto-prices" and n == 500
            stamps = pd.to_datetime([(T0 + 30 * i) * 1000 for i in range(len(items))], unit="ms", utc=True)
            return pd.DataFrame({"value": [json.dumps(p) for p in items], "timestamp": stamps})[::-1]  # newest first

    class FakeIceberg:
        def read(self, row_filter=None) -> pd.DataFrame:  # the window is also applied after the scan
            assert row_filter is not None
            old = rows_of([poll(-500)])
            return pd.concat([old, rows_of(items)], ignore_index=True)

    assert run_on_topic(FakeKafka(), "crypto-prices", suite, now=NOW).passed
    report = run_on_table(FakeIceberg(), suite, minutes=60, now=datetime.fromtimestamp(T0 + 300, UTC))
    assert report.passed, report.failures().to_dict("records")


def test_a_poisoned_record_in_the_exploded_topic_is_an_invalid_row_not_a_crash(suite: Suite) -> None:
    from types import SimpleNamespace

    from dataops.quality import run_on_layer

    good = rows_of(polls(3)).to_dict("records")

    class FakeKafka:
        def latest(self, topic: str, n: int = 1) -> pd.DataFrame:
            payloads = [None, "not an object", *good]  # what a producer wrote straight to the topic, then the job's rows
            return pd.DataFrame({"payload": payloads[::-1], "timestamp": pd.Timestamp(NOW)})  # newest first

    p = SimpleNamespace(kafka=FakeKafka(), settings=SimpleNamespace(topic_exploded="crypto-prices-exploded"))
    report = run_on_layer(p, "exploded", suite, now=NOW)
    schema = report.results.set_index("check").loc["row_schema"]
    assert schema["status"] == "failed" and schema["failing_rows"] == 2
