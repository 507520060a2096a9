"""The local Schema Registry for real: Apicurio Registry 3.3 started as a native process on its own
ports and state folder (its download shared with the suite's), driven through ``p.schema_registry``'s
layer over Confluent's API with Basic auth. Nothing else of the stack is started.

No skip: without Java 21 or the download the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import json
import shutil
import stat

import pytest
import requests

from dataops.artifacts import link_tree
from dataops import ConfigError, DataOpsError, load_settings
from dataops.errors import SchemaRejectedError
from dataops.config import PROJECT_ROOT
from dataops.contract import SCHEMA_DIR
from dataops.registry import avro, local
from dataops.registry.layer import SchemaRegistryLayer
from dataops.stack import Stack, schema_registry
from dataops.paths import StatePaths

from tests.integration.helpers import own_components

pytestmark = pytest.mark.integration

SUBJECT = "crypto-prices-value"
V1 = {"type": "record", "name": "CryptoPrice", "namespace": "dataops",
      "fields": [{"name": "coin_id", "type": "string"}, {"name": "usd", "type": "double"},
                 {"name": "last_updated_at", "type": "long"}]}  # fmt: skip
# BACKWARD-compatible: a new field with a default (a reader of v2 fills it in old records).
V2 = {**V1, "fields": [*V1["fields"], {"name": "usd_24h_change", "type": ["null", "double"], "default": None}]}
# Incompatible: a type change (double -> string), and a new field without default.
RETYPED = {**V2, "fields": [{**f, "type": "string"} if f["name"] == "usd" else f for f in V2["fields"]]}
REQUIRED = {**V2, "fields": [*V2["fields"], {"name": "eur", "type": "double"}]}
TIMINGS: dict[str, float] = {}


def _share(suite: StatePaths, own: StatePaths) -> None:
    schema_registry.install(suite)  # the download is kept in the suite's state folder
    link_tree(schema_registry.home(suite), schema_registry.home(own))


@pytest.fixture(scope="module")
def registry():
    """The registry on free ports and a fresh state folder (a fresh database); stopped after."""
    with own_components("registry-test", [schema_registry.NAME], ["schema_registry_port", "schema_registry_management_port"],
                        _share, TIMINGS) as s:  # fmt: skip
        yield s


@pytest.fixture()
def sr(registry):
    return SchemaRegistryLayer(registry)


def test_it_runs_on_loopback_with_backward_as_global_rule(registry, sr):
    status = Stack(registry).status().set_index("component").loc[schema_registry.NAME]
    assert status["health"] == "up" and status["port"] == registry.schema_registry_port
    print(f"\nApicurio Registry started in {TIMINGS['start_s']:.1f} s")
    assert TIMINGS["start_s"] < 120
    assert sr.compatibility() == "BACKWARD"
    assert sr.subjects().empty


def test_register_evolve_and_refuse(sr):
    first = sr.register(SUBJECT, V1)
    assert sr.register(SUBJECT, V1) == first  # the same schema again: the same id, no new version
    verdict = sr.test_compatibility(SUBJECT, V2)
    assert verdict["compatible"] and verdict["level"] == "BACKWARD"
    second = sr.register(SUBJECT, V2)
    assert second != first

    assert not sr.test_compatibility(SUBJECT, RETYPED)["compatible"]
    with pytest.raises(SchemaRejectedError) as retyped:
        sr.register(SUBJECT, RETYPED)
    assert retyped.value.status == 409 and "STRING" in retyped.value.verdict and "DOUBLE" in retyped.value.verdict
    assert "\n" not in str(retyped.value) and "rechazó el esquema de crypto-prices-value" in str(retyped.value)
    with pytest.raises(SchemaRejectedError, match="eur"):
        sr.register(SUBJECT, REQUIRED)

    subjects = sr.subjects()
    assert subjects.to_dict("records") == [{"subject": SUBJECT, "version": 2, "id": second, "type": "AVRO",
                                            "fields": ["coin_id", "usd", "last_updated_at", "usd_24h_change"]}]  # fmt: skip
    versions = sr.versions(SUBJECT)
    assert list(versions["version"]) == [1, 2] and list(versions["id"]) == [first, second]
    assert json.loads(versions["schema"].iloc[0])["fields"] == V1["fields"]


def test_compatibility_per_subject(sr):
    assert sr.compatibility(SUBJECT) == "BACKWARD"  # none of its own: the global one
    assert sr.put_compatibility("none", SUBJECT) == "NONE"
    assert sr.compatibility(SUBJECT) == "NONE" and sr.compatibility() == "BACKWARD"
    assert sr.test_compatibility(SUBJECT, RETYPED)["compatible"]
    assert sr.put_compatibility("BACKWARD", SUBJECT) == "BACKWARD"
    with pytest.raises(ConfigError, match="nivel de compatibilidad desconocido"):
        sr.put_compatibility("SIDEWAYS")


def test_a_wrong_secret_is_a_one_line_401(registry):
    key, _ = local.read_credentials(registry.paths)
    wrong = load_settings(profile="local", state_dir=registry.state_dir, schema_registry_url=local.local_url(registry),
                          schema_registry_api_key=key, schema_registry_api_secret="not-the-secret")  # fmt: skip
    with pytest.raises(ConfigError, match="rechazó la clave y el secreto \\(401\\)") as refused:
        SchemaRegistryLayer(wrong).subjects()
    assert "\n" not in str(refused.value) and "not-the-secret" not in str(refused.value)
    anonymous = requests.get(f"{local.local_url(registry)}/subjects", timeout=10)
    assert anonymous.status_code == 401  # reads need the key too


def test_the_secret_is_in_no_log_no_command_and_only_in_private_files(registry, sr):
    _, secret = local.read_credentials(registry.paths)
    value = secret.get_secret_value()
    paths = registry.paths
    for path in (paths.log_file(schema_registry.NAME), paths.pid_file(schema_registry.NAME)):
        assert value not in path.read_text(errors="replace"), path
    assert value not in repr(registry) and value not in repr(local.endpoint(registry))
    for path in (schema_registry.config_file(paths), paths.schema_registry_credentials):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_subjects_survive_a_restart(registry, sr):
    stack = Stack(registry)
    assert stack.stop(schema_registry.NAME)
    assert (registry.paths.data / "schema-registry" / "registry.mv.db").is_file()
    stack.up([schema_registry.NAME], progress=False)
    assert list(sr.versions(SUBJECT)["version"]) == [1, 2]
    assert sr.compatibility() == "BACKWARD"


def test_the_contracts_as_avro_register_and_a_message_reads_back_through_the_registry(sr):
    """The confluent profile's subjects: each topic's contract (data/schemas/) as Avro under
    ``<topic>-value``; a message in the wire format decodes with the schema the registry gives back;
    the registry's BACKWARD verdict on a contract change is the one block 6's gate must hear."""
    schemas = SCHEMA_DIR
    # (the raw topic's own subject holds the records of the tests above: its contract goes beside it)
    for topic, name in (("crypto-prices-avro", "raw_poll.json"), ("crypto-prices-exploded", "exploded_row.json")):
        sid = sr.register(avro.subject(topic), avro.avro_schema(schemas / name))
    row = json.loads((PROJECT_ROOT / "data" / "samples" / "exploded_rows.jsonl").read_text().splitlines()[0])
    value = avro.encode(avro.avro_schema(schemas / "exploded_row.json"), sid, row)
    stored = sr.versions("crypto-prices-exploded-value")
    assert list(stored["id"]) == [sid]
    assert avro.decode(value, {sid: json.loads(stored["schema"].iloc[-1])}) == row
    assert avro.Decoder(sr.schema)(value) == row  # as p.kafka reads an Avro topic: the schema by its id
    with pytest.raises(DataOpsError, match="ningún esquema con id 99999") as unknown:
        sr.schema(99999)
    assert "\n" not in str(unknown.value)

    contract = json.loads((schemas / "exploded_row.json").read_text())
    contract["properties"]["eur"] = {"type": ["number", "null"]}  # a new nullable column: old rows read as null
    assert sr.test_compatibility("crypto-prices-exploded-value", avro.avro_schema(contract))["compatible"]
    contract["properties"]["usd_market_cap"]["type"] = "number"  # and a nullable one made required: not
    assert not sr.test_compatibility("crypto-prices-exploded-value", avro.avro_schema(contract))["compatible"]


def test_block_6s_schema_gate_hears_the_registrys_verdict(registry, sr, tmp_path):
    """`dataops schemas --registry`: each contract as Avro, tested by the registry as its topic's next version."""
    from dataops.ci.checks import registry_problems

    settings = registry.model_copy(update={"topic_raw": "crypto-prices-avro"})  # the subjects registered above
    assert registry_problems(sr, settings) == []
    changed = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, changed)
    contract = json.loads((changed / "exploded_row.json").read_text())
    contract["properties"]["usd_market_cap"]["type"] = "number"  # a nullable column made required
    (changed / "exploded_row.json").write_text(json.dumps(contract))
    (line,) = registry_problems(sr, settings, changed)
    assert line.startswith("exploded_row.json: el Schema Registry (BACKWARD) no lo acepta como siguiente versión de "
                           "crypto-prices-exploded-value: ") and "\n" not in line  # fmt: skip
