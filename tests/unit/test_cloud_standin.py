"""The cloud fixtures' managed side, without running it: the stand-in's settings, the Avro options of
the explode job and of the Iceberg sink, and where each secret goes (never a config, a spec or a
command line). ``tests/integration/test_cloud_pipeline_live.py`` runs it."""

from __future__ import annotations

import json
import stat

import pytest

from dataops import ConfigError, load_settings
from dataops.automation import resources as res
from dataops.automation.declaration import load
from dataops.contract import contract_for, raw_poll_schema
from dataops.flink import job
from dataops.iceberg import engine as iceberg_engine
from dataops.kafka import sasl
from dataops.kafka_connect import cloud as connect_cloud
from dataops.kafka_connect import converters
from dataops.profiles import standin
from dataops.registry import avro
from dataops.registry import local as registry_local

pytestmark = pytest.mark.unit


@pytest.fixture()
def local(tmp_path, monkeypatch):
    """The stack's settings on a private state folder, with the fixtures' credentials made (as their first start does)."""
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    sasl.credentials(s.paths)
    registry_local.credentials(s)
    iceberg_engine.catalog_config(s.paths)
    return s


def _secrets(local) -> list[str]:
    return [sasl.credentials(local.paths)["secret"].get_secret_value(), registry_local.endpoint(local).secret.get_secret_value()]


def test_the_stand_in_is_the_confluent_side_with_its_own_job_and_tableflows_table(local):
    s = standin.standin_settings(local)
    assert s.runs.name == "cloud-standin" and s.runs.kafka_auth == "sasl_plain" and s.bootstrap_servers == f"127.0.0.1:{local.kafka_sasl_port}"
    assert s.flink_job_name == "crypto-explode-cloud" != local.flink_job_name  # beside the local job on one Flink
    cluster = iceberg_engine.namespace(local)
    assert s.iceberg_table == f"{cluster}.crypto-prices-exploded" and s.confluent_cluster_id == cluster
    assert s.topic_format == "avro" and s.schema_registry_url == f"http://127.0.0.1:{local.schema_registry_port}/apis/ccompat/v7"
    chosen = load_settings(env_file=local.paths.root / "none.env", state_dir=local.state_dir, topic_format="json")
    assert standin.standin_settings(chosen).topic_format == "json"  # DATAOPS_TOPIC_FORMAT, when set, wins


def test_the_declaration_applies_in_the_stand_in_with_every_kind_and_the_rest_catalog(local):
    s = standin.standin_settings(local)
    kinds = [r.kind for r in res.resources(load(s), s)]
    assert kinds == ["topic"] * 4 + ["connector", "job", "table", "sink"]
    sink = next(r for r in res.resources(load(s), s) if r.kind == "sink").desired
    assert sink["iceberg.catalog.type"] == "rest" and sink["iceberg.catalog.uri"] == iceberg_engine.backend_url(local)
    assert sink["iceberg.tables"] == s.iceberg_table and sink["iceberg.kafka.bootstrap.servers"] == s.bootstrap_servers
    local_sink = next(r for r in res.resources(load(local), local) if r.kind == "sink").desired
    assert local_sink["iceberg.catalog.catalog-impl"] == "org.apache.iceberg.jdbc.JdbcCatalog"  # the local profile's, unchanged


def test_avro_reads_through_the_converter_with_the_login_in_a_private_file(local):
    s = standin.standin_settings(local)
    sink = next(r for r in res.resources(load(s), s) if r.kind == "sink").desired
    assert sink["value.converter"] == converters.AVRO_CONVERTER and sink["value.converter.schema.registry.url"] == s.schema_registry_url
    login = converters.registry_login_file(s, "unused")  # rewritten below by value_converter with the real pair
    converters.value_converter(s)
    assert sink["value.converter.basic.auth.user.info"] == f"${{file:{login}:user.info}}"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600 and _secrets(local)[1] in login.read_text()
    json_sink = next(r for r in res.resources(load(local), local) if r.kind == "sink").desired
    assert json_sink["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"


def test_the_source_writes_avro_by_the_raw_contract_and_the_job_decodes_it_with_the_login_in_a_file(local):
    """Avro: the HTTP source's converter writes by the raw poll contract's Avro schema (registered by the
    converter under ``<raw topic>-value``), retried while the registry is out of reach; the job reads the
    raw value as bytes and decodes it with ``AVRO_POLL``, which reads the login from the private file.
    JSON: the body's text, read as text, no function."""
    s = standin.standin_settings(local)
    source = next(r for r in res.resources(load(s), s) if r.kind == "connector").desired
    assert source["value.converter"] == converters.AVRO_CONVERTER
    assert json.loads(source["value.converter.avro.schema"]) == avro.avro_schema(raw_poll_schema(s.vs_currency))
    assert source["value.converter.basic.auth.user.info"].startswith("${file:") and int(source["errors.retry.timeout"]) > 0
    params = job.job_params(s)
    assert params["raw_type"] == "BYTES" and job.AVRO_POLL in params["raw_decoder"]
    login = converters.registry_login_file(s, "unused")
    assert params["poll_decoding"].endswith(f"AVRO_POLL(r.body, '{s.schema_registry_url}', '{login}')]) AS a (poll, decode_error)")
    assert params["decode_check"].startswith("WHEN a.decode_error IS NOT NULL THEN 'undecodable_avro'")
    plain = job.job_params(local)
    assert (plain["raw_type"], plain["raw_decoder"], plain["poll_body"]) == ("STRING", "", "r.body")
    plain_source = next(r for r in res.resources(load(local), local) if r.kind == "connector").desired
    assert plain_source["value.converter"] == "org.apache.kafka.connect.storage.StringConverter"
    assert not any(k.startswith(("value.converter.", "errors.")) for k in plain_source)


def test_the_jobs_avro_table_matches_the_contracts_schema_field_by_field(local):
    s = standin.standin_settings(local)
    schema = avro.avro_schema(contract_for(s).schema)
    columns = [line.strip().rstrip(",") for line in job.avro_columns(schema).splitlines()]
    assert columns[0] == "coin_id STRING NOT NULL" and "usd_market_cap DOUBLE" in columns and "usd DOUBLE NOT NULL" in columns
    assert "event_time STRING NOT NULL" in columns and "processed_at STRING" in columns  # avro-confluent cannot map TIMESTAMP_LTZ
    params = job.job_params(s)
    assert "'value.format' = 'avro-confluent'" in params["exploded_format"]
    assert f"'value.avro-confluent.subject' = '{avro.subject(s.topic_exploded)}'" in params["exploded_format"]
    given = params["exploded_format"].split("'value.avro-confluent.schema' = '")[1].split("',\n")[0]
    assert json.loads(given.replace("''", "'")) == schema
    assert params["event_time"].startswith("DATE_FORMAT(") and params["registry_auth"] == ""
    assert "TIMESTAMP_LTZ(3)" in job.job_params(local)["exploded_columns"] and "'value.format' = 'json'" in job.job_params(local)["exploded_format"]
    assert s.paths.flink_avro_jar.as_uri() in job.job_config(s)["pipeline.jars"]
    assert s.paths.flink_avro_jar.as_uri() not in job.job_config(local)["pipeline.jars"]


def test_no_secret_in_the_job_spec_the_command_line_or_a_connectors_config(local):
    s = standin.standin_settings(local)
    cmd, env = job.submit_command(s)
    hidden = json.loads(env["DATAOPS_FLINK_SUBMIT_SECRETS"])["params"]
    assert _secrets(local)[0] in hidden["kafka_security"] and _secrets(local)[1] in hidden["registry_auth"]
    shown = json.dumps([cmd, job.job_spec(s), [r.desired for r in res.resources(load(s), s)]])
    for secret in _secrets(local):
        assert secret not in shown


def test_avro_with_no_registry_is_one_line_saying_how_to_start_one(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state", topic_format="avro")
    with pytest.raises(ConfigError, match="dataops up schema-registry") as err:
        job.job_params(s)
    assert "\n" not in str(err.value)


def test_the_worker_is_on_the_fixtures_broker_with_its_file_private(local):
    props = connect_cloud.worker_properties(local, local.paths)
    assert props["bootstrap.servers"] == f"127.0.0.1:{local.kafka_sasl_port}"
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert props[f"{prefix}security.protocol"] == "SASL_SSL" and props[f"{prefix}ssl.truststore.location"] == str(sasl.ca_file(local.paths))
    assert props["config.providers"] == "file"
    connect_cloud.command(local, local.paths)
    assert stat.S_IMODE(connect_cloud.config_file(local.paths).stat().st_mode) == 0o600


def test_the_users_file_holds_the_whole_profile(local):
    where = standin.client_env(local)
    user = load_settings(env_file=where)
    assert user.profile == "confluent" and user.kafka_ca_file == sasl.ca_file(local.paths)
    assert user.schema_registry_url == f"http://127.0.0.1:{local.schema_registry_port}/apis/ccompat/v7"
    assert user.tableflow_api_secret is not None and user.confluent_cluster_id == iceberg_engine.namespace(local)
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
