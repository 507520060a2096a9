"""The record contract is defined once (data/schemas/exploded_row.json): every layer derives from it."""

from __future__ import annotations

import json
import re

import pytest

from dataops import contract
from dataops.config import load_settings
from dataops.contract import load_contract
from dataops.flink.job import EXPLODE_SQL, job_params
from dataops.flink.submit import plan_statements

pytestmark = pytest.mark.unit


def settings(**over):
    return load_settings(env_file="/nonexistent", **over)


def flink_ddl(s) -> str:
    """The rendered DDL of the exploded topic, as the Flink job is planned."""
    statements = plan_statements(EXPLODE_SQL.read_text(), job_params(s))
    return next(x for x in statements if "CREATE TEMPORARY TABLE exploded" in x)


def ddl_columns(ddl: str) -> dict[str, str]:
    body = ddl.split("(", 1)[1].split(") WITH", 1)[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\s*(\w+)\s+([A-Z_()0-9 ]+?),?$", body, re.M)}


@pytest.fixture
def changed_contract(tmp_path, monkeypatch):
    """The schema file with one field added and one renamed, in its one place."""
    schema = json.loads(contract.EXPLODED_SCHEMA.read_text())
    props = schema["properties"]
    props["exchange"] = {"type": ["string", "null"]}
    props = {("usd_volume_24h" if k == "usd_24h_vol" else k): v for k, v in props.items()}
    schema["properties"] = props
    schema["required"] = [("usd_volume_24h" if k == "usd_24h_vol" else k) for k in schema["required"]]
    path = tmp_path / "exploded_row.json"
    path.write_text(json.dumps(schema))
    monkeypatch.setattr(contract, "EXPLODED_SCHEMA", path)
    contract.load_contract.cache_clear()
    yield
    contract.load_contract.cache_clear()


def test_every_rendered_statement_is_sql_not_a_stray_placeholder():
    """A placeholder inside a comment would be filled with several lines and break the job."""
    for s in (settings(), settings(vs_currency="eur")):
        for statement in plan_statements(EXPLODE_SQL.read_text(), job_params(s)):
            code = [line for line in statement.splitlines() if line.strip() and not line.lstrip().startswith("--")]
            assert code and code[0].split()[0] in ("CREATE", "EXECUTE"), statement[:300]
            assert "${" not in statement


def test_default_contract_is_the_schema_file():
    c = load_contract()
    assert c.names == tuple(json.loads(contract.EXPLODED_SCHEMA.read_text())["properties"])
    assert c.price == "usd" and c.names[0] == "coin_id"
    assert c.coin_fields == ("usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change", "last_updated_at")
    assert [f.name for f in c.iceberg_schema().fields] == list(c.names)
    cols = ddl_columns(flink_ddl(settings()))
    assert list(cols) == list(c.names)
    assert cols["coin_id"] == "STRING NOT NULL" and cols["usd"] == "DOUBLE" and cols["last_updated_at"] == "BIGINT"
    assert cols["event_time"] == "TIMESTAMP_LTZ(3)"


def test_a_field_changed_in_the_schema_file_reaches_every_layer(changed_contract, tmp_path):
    from dataops.monitor import Monitor
    from dataops.metrics import MetricsStore

    s = settings(state_dir=str(tmp_path / "state"))
    names = contract.contract_for(s).names
    assert "exchange" in names and "usd_volume_24h" in names and "usd_24h_vol" not in names
    cols = ddl_columns(flink_ddl(s))  # Flink
    assert cols["exchange"] == "STRING" and cols["usd_volume_24h"] == "DOUBLE" and "usd_24h_vol" not in cols
    iceberg = [f.name for f in contract.contract_for(s).iceberg_schema().fields]  # Iceberg
    assert iceberg == list(names)
    monitor = Monitor(s, store=MetricsStore(tmp_path / "m.db"))  # the monitor's completeness columns
    assert monitor.samplers["rows"].contract.names == names


def test_the_currency_setting_renames_every_price_field():
    s = settings(vs_currency="eur")
    c = contract.contract_for(s)
    assert c.price == "eur" and "eur_market_cap" in c.names and not any(n.startswith("usd") for n in c.names)
    sql = "\n".join(plan_statements(EXPLODE_SQL.read_text(), job_params(s)))
    assert "usd" not in sql and "fields['eur']" in sql and "num_eur_24h_change" in sql
    assert list(ddl_columns(flink_ddl(s))) == list(c.names)
    assert [f.name for f in c.iceberg_schema().fields] == list(c.names)
    raw = contract.raw_poll_schema("eur")
    entry = next(iter(raw["patternProperties"].values()))
    assert set(entry["required"]) == {"eur", "eur_market_cap", "eur_24h_vol", "eur_24h_change", "last_updated_at"}
    assert s.price_url().endswith("vs_currencies=eur") or "vs_currencies=eur" in s.price_url()


def test_a_broken_contract_is_one_clear_line(tmp_path, monkeypatch):
    from dataops.errors import ConfigError

    path = tmp_path / "exploded_row.json"
    path.write_text(json.dumps({"properties": {"coin_id": {"type": "string"}, "usd": {"type": "object"}}}))
    with pytest.raises(ConfigError, match="el campo 'usd' tiene el tipo"):
        load_contract("usd", path)
    path.write_text("{")
    with pytest.raises(ConfigError, match="el contrato de registro .* está mal formado"):
        load_contract("usd", str(path))


def test_the_quality_suite_takes_coins_and_currency_from_the_settings(tmp_path):
    from dataops.errors import SuiteError
    from dataops.quality import load_suite, run_suite
    from dataops.quality.suite import SUITE_PATH

    suite = load_suite(settings=settings(vs_currency="eur", coins="bitcoin,solana"))
    assert suite.expected_coins == ("bitcoin", "solana") and suite.contract.price == "eur"
    ranges = next(c for c in suite.checks if c.name == "raw_value_ranges")
    assert ranges.params["field"] == "eur"
    complete = next(c for c in suite.checks if c.name == "raw_completeness")
    assert complete.params["fields"] == ["eur", "eur_market_cap", "eur_24h_vol", "eur_24h_change", "last_updated_at"]
    entry = {"eur": 90000.0, "eur_market_cap": 1.0e12, "eur_24h_vol": 1.0e9, "eur_24h_change": 1.0, "last_updated_at": 1_750_000_000}
    report = run_suite(suite, polls=[{"bitcoin": entry, "solana": {**entry, "eur": 150.0}}], now=1_750_000_010)
    assert report.results.set_index("check").loc["raw_schema", "status"] == "passed", report.results.to_dict("records")
    assert report.results.set_index("check").loc["raw_completeness", "status"] == "passed"
    usd = load_suite(settings=settings())
    assert usd.expected_coins == tuple(settings().coins)
    bad = tmp_path / "suite.yaml"
    bad.write_text("expected_coins: [bitcoin]\n" + SUITE_PATH.read_text().replace("../schemas/", str(SUITE_PATH.parent.parent / "schemas") + "/"))
    with pytest.raises(SuiteError, match="DATAOPS_COINS"):
        load_suite(bad)
