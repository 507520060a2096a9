"""Bad records are contained: one contract decides what the Flink job rejects, the dead letters are listed and replayed."""

from __future__ import annotations

import json
import math
import re

import pytest

from dataops import cli, contract
from dataops.automation.declaration import Sink
from dataops.automation.resources import sink_config
from dataops.config import load_settings
from dataops.contract import load_contract
from dataops.dlq.layer import parse_letter, read_jsonl, summarise
from dataops.errors import DataOpsError
from dataops.flink.job import EXPLODE_SQL, job_params
from dataops.flink.submit import plan_statements
from dataops.kafka.layer import Record
from dataops.quality.schema import validate

pytestmark = pytest.mark.unit

GOOD = {"usd": 95000.5, "usd_market_cap": 1.8e12, "usd_24h_vol": 3.0e10, "usd_24h_change": -1.2, "last_updated_at": 1_790_000_000}
# One poisoned entry per reason the issue names (and the others the contract states), with that reason.
POISON = [
    ("bitcoin", {**GOOD, "usd": 0}, "non_positive:usd"),
    ("bitcoin", {**GOOD, "usd": -3.5}, "non_positive:usd"),
    ("bitcoin", {**GOOD, "usd_market_cap": -1}, "negative:usd_market_cap"),
    ("bitcoin", {**GOOD, "usd_24h_vol": -0.01}, "negative:usd_24h_vol"),
    ("bitcoin", {**GOOD, "usd": math.nan}, "non_finite:usd"),
    ("bitcoin", {**GOOD, "usd": math.inf}, "non_finite:usd"),
    ("bitcoin", {**GOOD, "usd_24h_vol": -math.inf}, "non_finite:usd_24h_vol"),
    ("bitcoin", {**GOOD, "usd_24h_change": "NaN"}, "non_finite:usd_24h_change"),
    ("bitcoin", {**GOOD, "usd": "95000.5"}, "not_a_number:usd"),
    ("bitcoin", {**GOOD, "usd": True}, "not_a_number:usd"),
    ("bitcoin", {k: v for k, v in GOOD.items() if k != "usd"}, "missing_or_null:usd"),
    ("bitcoin", {**GOOD, "last_updated_at": None}, "missing_or_null:last_updated_at"),
    ("bitcoin", {**GOOD, "last_updated_at": 1_790_000_000.5}, "not_an_integer:last_updated_at"),
    ("bitcoin", {**GOOD, "last_updated_at": 1_790_000_000_000}, "out_of_range:last_updated_at"),
    ("Bitcoin Cash", GOOD, "bad_format:coin_id"),
    ("bitcoin", [1, 2], "entry_not_an_object"),
]


def settings(**over):
    return load_settings(env_file="/nonexistent", **over)


def rendered_sql(s=None) -> str:
    return "\n".join(plan_statements(EXPLODE_SQL.read_text(), job_params(s or settings())))


@pytest.mark.parametrize("coin_id, entry, reason", POISON, ids=[f"{r}-{i}" for i, (_, _, r) in enumerate(POISON)])
def test_each_poisoned_entry_has_its_reason(coin_id, entry, reason):
    assert load_contract().violation(coin_id, entry) == reason


def test_a_good_entry_passes_and_nulls_where_the_schema_allows_them():
    c = load_contract()
    assert c.violation("bitcoin", GOOD) is None
    assert c.violation("bitcoin", {**GOOD, "usd_market_cap": None, "usd_24h_change": None}) is None
    assert c.violation("bitcoin", {**GOOD, "last_updated_at": 1.79e9}) is None  # an integer, as JSON Schema says


def test_the_job_rejects_by_the_bounds_the_schema_states():
    """Every minimum / exclusiveMinimum / maximum of the schema file is a WHEN of the job's SQL, and nothing else is."""
    schema = json.loads(contract.EXPLODED_SCHEMA.read_text())
    sql = rendered_sql()
    ops = {"minimum": "<", "exclusiveMinimum": "<=", "maximum": ">", "exclusiveMaximum": ">="}
    stated = {(name, ops[k], spec[k]) for name, spec in schema["properties"].items() for k in ops if k in spec}
    assert {("usd", "<=", 0), ("usd_market_cap", "<", 0), ("usd_24h_vol", "<", 0)} <= stated
    in_sql = {(m[0], m[1], float(m[2])) for m in re.findall(r"WHEN (\w+) (<=|>=|<|>) (-?[\d.]+) THEN '", sql)}
    beyond = {("last_updated_at", "<", contract.EPOCH_SECONDS[0]), ("last_updated_at", ">", contract.EPOCH_SECONDS[1])}
    assert in_sql == {(n, op, float(v)) for n, op, v in stated | beyond}  # the epoch-seconds range: see contract.EPOCH_SECONDS
    reasons = set(re.findall(r"THEN '([a-z_]+:\w+|entry_not_an_object)'", sql))
    assert reasons == {r.reason for r in load_contract().rules()} | {"entry_not_an_object"}
    assert "non_finite:usd" in reasons and "non_positive:usd" in reasons and "negative:usd_24h_vol" in reasons


def test_a_bound_changed_in_the_schema_file_changes_the_job_and_the_python_check(tmp_path, monkeypatch):
    schema = json.loads(contract.EXPLODED_SCHEMA.read_text())
    schema["properties"]["usd_24h_vol"]["minimum"] = 1000
    path = tmp_path / "exploded_row.json"
    path.write_text(json.dumps(schema))
    monkeypatch.setattr(contract, "EXPLODED_SCHEMA", path)
    contract.load_contract.cache_clear()
    try:
        assert "WHEN usd_24h_vol < 1000 THEN 'below_minimum:usd_24h_vol'" in rendered_sql()
        assert contract.load_contract().violation("bitcoin", {**GOOD, "usd_24h_vol": 999}) == "below_minimum:usd_24h_vol"
    finally:
        contract.load_contract.cache_clear()


@pytest.mark.parametrize("coin_id, entry, reason", [p for p in POISON if isinstance(p[1], dict) and not p[2].startswith("out_of_range")])
def test_the_quality_schema_rejects_what_the_job_rejects(coin_id, entry, reason):
    """The same contract: a row the job sends to the dead letters fails the quality suite's row schema
    (all but the epoch-seconds range, which the schema file does not state yet: contract.EPOCH_SECONDS)."""
    schema = load_contract().schema
    row = {"coin_id": coin_id, **{k: entry.get(k) for k in GOOD}, "event_time": "2026-01-01T00:00:00+00:00", "processed_at": None}
    assert validate(row, schema), (reason, row)
    assert not validate({**row, "coin_id": "bitcoin", **GOOD}, schema)


def test_the_iceberg_sink_sends_what_it_cannot_convert_to_the_dead_letters():
    s = settings()
    spec = Sink(name="sink", kind="iceberg", topic="t", table="crypto.t", control_topic="c", dead_letter="dlq")
    config = sink_config(s, spec)
    assert config["errors.tolerance"] == "all" and config["errors.deadletterqueue.topic.name"] == "dlq"
    assert config["errors.deadletterqueue.context.headers.enable"] == "true"
    assert config["transforms.contract.type"] == "org.apache.kafka.connect.transforms.Cast$Value"
    assert config["transforms.contract.spec"] == "usd:float64,usd_market_cap:float64,usd_24h_vol:float64,usd_24h_change:float64,last_updated_at:int64"
    assert config["transforms"] == "contract,timestamps"
    assert config["transforms.timestamps.type"] == "org.dataops.connect.transforms.TimestampGuard"
    assert config["transforms.timestamps.fields"] == "event_time,processed_at"
    assert "errors.tolerance" not in sink_config(s, spec.model_copy(update={"dead_letter": None}))


def record(value, headers=None, offset=0, ts=1_790_000_000_000, key=None):
    return Record("crypto-prices-dlq", 0, offset, ts, key, value, headers or {})


def test_letters_of_the_job_and_of_the_sink_are_listed_by_reason():
    flink = json.dumps({"granularity": "coin", "reason": "non_positive:usd", "coin_id": "bitcoin",
                        "coin_entry": json.dumps({**GOOD, "usd": 0}), "raw": "{}", "src_offset": 3})
    poll = json.dumps({"granularity": "poll", "reason": "unparseable_json", "coin_id": None, "coin_entry": None, "raw": "{oops"})
    sink = record(json.dumps({"coin_id": "ethereum", **GOOD, "usd": "abc", "event_time": "x"}), offset=9, ts=1_790_000_001_000,
                  headers={"__connect.errors.stage": b"TRANSFORMATION",
                           "__connect.errors.exception.class.name": b"java.lang.NumberFormatException",
                           "__connect.errors.exception.message": b'For input string: "abc"'})
    fields = load_contract().coin_fields
    letters = [parse_letter(r, fields) for r in (record(flink, offset=1), record(flink, offset=2), record(poll, offset=3), sink)]
    assert letters[3]["source"] == "sink" and letters[3]["reason"] == "sink_cannot_convert"
    assert letters[3]["coin_id"] == "ethereum" and set(letters[3]["entry"]) == set(fields)
    import pandas as pd

    table = summarise(pd.DataFrame(letters))
    assert list(table.columns) == ["reason", "count", "newest", "example"]
    assert table.iloc[0]["reason"] == "non_positive:usd" and table.iloc[0]["count"] == 2
    by = table.set_index("reason")
    assert by.loc["unparseable_json", "example"] == "{oops"
    assert by.loc["sink_cannot_convert", "example"].startswith('ethereum: NumberFormatException: For input string: "abc"')


def test_a_bad_replay_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "fixed.jsonl"
    path.write_text('{"coin_id": "bitcoin", "entry": {"usd": 1}}\n{"coin_id": "bitcoin", "entry": {"usd": 1\n')
    with pytest.raises(DataOpsError, match=r"fixed.jsonl línea 2 no es JSON"):
        read_jsonl(path)
    path.write_text('{"coin_id": "bitcoin"}\n')
    with pytest.raises(DataOpsError, match=r"línea 1 no tiene ni 'entry' ni 'raw'"):
        read_jsonl(path)
    assert cli.main(["dlq", "replay", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: el fichero de replay ") and "missing.jsonl no existe" in err and "\n" not in err


def test_dlq_has_help(capsys):
    for argv in (["dlq", "--help"], ["dlq", "replay", "--help"], ["dlq", "export", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 0
    assert "--dry-run" in capsys.readouterr().out
