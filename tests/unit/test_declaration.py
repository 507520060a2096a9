"""The pipeline declaration: loaded, filled from the settings, refused with the line; plan helpers."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from dataops.automation.declaration import Check, Declaration, Topic, load, parse
from dataops.automation.engine import scratch_settings
from dataops.automation.resources import STEP_TOPICS, Resource, describe, diff, impossible, resources
from dataops.config import load_settings
from dataops.errors import DeclarationError

pytestmark = pytest.mark.unit

PIPELINE_NAMES = ("topic_raw", "topic_exploded", "topic_dlq", "topic_iceberg_control", "connector_name",
                  "iceberg_connector_name", "flink_job_name")  # fmt: skip


@pytest.fixture()
def make_settings(tmp_path, monkeypatch):
    """``load_settings`` without a developer's ``.env`` or ``DATAOPS_*`` variables."""
    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "absent.env"))
    return load_settings


@pytest.fixture()
def settings(make_settings):
    return make_settings()


def refusal(text: str, settings) -> str:
    with pytest.raises(DeclarationError) as info:
        parse(text, settings, "test.yaml")
    return str(info.value)


def all_names(decl: Declaration) -> set[str]:
    """Every resource name and every topic a resource refers to."""
    names = {item.name for section in ("topics", "connectors", "jobs", "tables", "sinks") for item in getattr(decl, section)}
    names |= {c.topic for c in decl.connectors} | {s.table for s in decl.sinks}
    names |= {t for j in decl.jobs for t in (j.source, j.sink, j.dead_letter)}
    return names | {t for s in decl.sinks for t in (s.topic, s.control_topic)}


# ---- the project's declaration ---------------------------------------------------


def test_project_declaration_loads(settings):
    decl = load(settings)
    assert [t.name for t in decl.topics] == [settings.topic_raw, settings.topic_exploded, settings.topic_dlq,
                                             settings.topic_iceberg_control]  # fmt: skip
    assert [c.kind for c in decl.connectors] == ["http_source"]
    connector = decl.connectors[0]
    assert connector.name == settings.connector_name and connector.url == settings.price_url()
    assert connector.topic == settings.topic_raw and connector.poll_interval_s == settings.poll_interval_s
    assert [j.kind for j in decl.jobs] == ["explode"]
    job = decl.jobs[0]
    assert (job.source, job.sink, job.dead_letter) == (settings.topic_raw, settings.topic_exploded, settings.topic_dlq)
    assert [t.name for t in decl.tables] == [settings.iceberg_table]
    assert [s.kind for s in decl.sinks] == ["iceberg"]
    sink = decl.sinks[0]
    assert (sink.topic, sink.table, sink.control_topic) == (settings.topic_exploded, settings.iceberg_table,
                                                            settings.topic_iceberg_control)  # fmt: skip
    assert decl.preflight == [] and decl.validation == [] and decl.source == "pipeline.yaml"


def test_placeholders_follow_the_settings(make_settings):
    s = make_settings(topic_partitions=2, topic_raw="x-raw", topic_retention_ms=1000)
    decl = load(s)
    assert decl.topic("x-raw").partitions == 2 and decl.topic(s.topic_exploded).partitions == 2
    assert decl.topic(s.topic_dlq).partitions == 1  # not a placeholder
    assert decl.topic("x-raw").config == {"retention.ms": "1000", "cleanup.policy": "delete"}
    assert decl.connectors[0].topic == "x-raw" and decl.jobs[0].source == "x-raw"
    assert decl.topic("crypto-prices") is None


# ---- refusals: the source, the line, what is expected ---------------------------------

TOPIC_A = "topics:\n  - name: a\n    partitions: 1\n"
INVALID = {
    "unknown top-level key": ("topics: []\nextras: []\n", 2, ["clave desconocida 'extras'", "las secciones válidas son: topics"]),
    "unknown key in a topic": (TOPIC_A + "    colour: red\n", 4,
                               ["topics.0.colour: clave desconocida", "una entrada de `topics` tiene: name, partitions, config"]),
    "negative partitions": ("topics:\n  - name: a\n    partitions: -1\n", 3,
                            ["topics.0.partitions", "greater than or equal to 1", "recibido -1"]),
    "partitions not a number": ("topics:\n  - name: a\n    partitions: tres\n", 3,
                                ["topics.0.partitions", "valid integer", "recibido 'tres'"]),
    "connector on an undeclared topic": (TOPIC_A + "connectors:\n  - name: c\n    kind: http_source\n"
                                         "    url: http://x\n    topic: b\n", 8,
                                         ["connector c usa el topic 'b', que no está declarado", "usa uno de estos: a"]),
    "sink on an undeclared table": (TOPIC_A + "sinks:\n  - name: s\n    kind: iceberg\n    topic: a\n"
                                    "    table: ns.t\n    control_topic: a\n", 8,
                                    ["el sink s escribe la tabla 'ns.t', que no está declarada", "añádela en `tables:`"]),
    "duplicate topic": (TOPIC_A + "  - name: a\n    partitions: 2\n", 4, ["topics: 'a' está declarado dos veces"]),
    "check without its field": ("preflight:\n  - name: up\n    kind: http\n", 2, ["el check up (http) necesita url", "añádele `url:`"]),
    "unclosed bracket": (TOPIC_A + "    config: {cleanup.policy: [delete}\n", 4, ["YAML mal formado"]),
    "placeholder unquoted in a flow mapping": ("topics:\n  - {name: ${topic_raw}, partitions: 1}\n", 2,
                                               ["YAML mal formado", 'escribe los placeholders entre comillas: "${name}"']),
}  # fmt: skip


@pytest.mark.parametrize("text, line, expected", INVALID.values(), ids=INVALID.keys())
def test_invalid_declaration_is_refused_with_the_line(settings, text, line, expected):
    message = refusal(text, settings)
    assert message.startswith(f"test.yaml línea {line}: ")
    for fragment in expected:
        assert fragment in message
    assert "\n" not in message


def test_unknown_placeholder_is_refused(settings):
    message = refusal("topics:\n  - name: ${nope}\n    partitions: 1\n", settings)
    assert message.startswith("test.yaml") and "placeholder desconocido ${nope}" in message
    assert "usa el nombre de un ajuste" in message


def test_topic_config_numbers_are_text(settings):
    decl = parse("topics:\n  - {name: a, partitions: 1, config: {retention.ms: 1000, compression.type: lz4}}\n", settings, "t")
    assert decl.topics[0].config == {"retention.ms": "1000", "compression.type": "lz4"}


def test_unknown_placeholder_names_its_line(settings):
    assert refusal("topics:\n  - name: ${nope}\n    partitions: 1\n", settings).startswith("test.yaml línea 2: ")


# ---- extensions ---------------------------------------------------------------------


def test_extension_may_check_a_topic_of_the_project(settings):
    decl = load(settings, extra='validation:\n  - name: flowing\n    kind: topic_flowing\n    topic: "${topic_exploded}"\n')
    assert [(c.name, c.topic) for c in decl.validation] == [("flowing", settings.topic_exploded)]
    assert len(decl.topics) == 4 and decl.source == "pipeline.yaml + extensión"


def test_invalid_extension_is_refused_with_its_own_name_and_line(settings, tmp_path):
    with pytest.raises(DeclarationError, match=r"^extensión línea 2: el check up \(tcp\) necesita port"):
        load(settings, extra="validation:\n  - name: up\n    kind: tcp\n    host: localhost\n")
    path = tmp_path / "checks.yaml"
    path.write_text("validation: []\nsurprise: 1\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"^checks.yaml línea 2: clave desconocida 'surprise'"):
        load(settings, extra=path)


def test_extension_connector_may_use_a_topic_of_the_project(settings):
    extra = 'connectors:\n  - name: c2\n    kind: http_source\n    url: http://x\n    topic: "${topic_raw}"\n'
    assert [c.name for c in load(settings, extra=extra).connectors] == [settings.connector_name, "c2"]


def test_extended_replaces_by_name_and_appends():
    base = Declaration(topics=[Topic(name=n, partitions=1) for n in "abc"],
                       validation=[Check(name="up", kind="tcp", host="h", port=1)], source="base")  # fmt: skip
    other = Declaration(topics=[Topic(name="b", partitions=5), Topic(name="d", partitions=1)], source="ext")
    merged = base.extended(other)
    assert [t.name for t in merged.topics] == ["a", "b", "c", "d"]  # b replaced in place, d appended
    assert merged.topic("b").partitions == 5
    assert [c.name for c in merged.validation] == ["up"] and merged.source == "base + ext"
    assert base.topic("b").partitions == 1  # the base is left as it was


# ---- scratch namespaces -----------------------------------------------------------


def test_scratch_settings_prefix_every_name(settings):
    scratch = scratch_settings(settings, "demo-x")
    for name in PIPELINE_NAMES:
        assert getattr(scratch, name) == f"demo-x-{getattr(settings, name)}"
    assert scratch.iceberg_table == "demo_x_crypto.crypto_prices_exploded"
    assert settings.topic_raw == "crypto-prices"  # the original is untouched


def test_scratch_declaration_shares_no_name_with_the_project(settings):
    scratch = all_names(load(scratch_settings(settings, "demo-x")))
    assert all(n.startswith(("demo-x-", "demo_x_")) for n in scratch), scratch
    assert not scratch & all_names(load(settings))


# ---- plan helpers --------------------------------------------------------------------


def test_diff():
    assert diff({"a": "1", "b": "2"}, {"a": "1", "b": "2"}) == {}
    assert diff({"a": "1", "b": "2"}, {"a": "9", "c": "3"}) == {"a": ("9", "1"), "b": (None, "2"), "c": ("3", None)}
    assert diff({"a": "1"}, None) == {}


def test_describe_masks_secrets_and_shortens_long_values():
    text = describe({"http.api.key": ("old-secret", "new-secret"), "sasl.password": ("pw", None),
                     "http.url": ("short", "v" * 60)})  # fmt: skip
    assert "secret" not in text and "pw" not in text
    assert "http.api.key: **** → ****" in text and "sasl.password: **** → ∅" in text
    assert f"http.url: short → {'v' * 45}…" in text and "v" * 46 not in text
    assert describe({"key.converter": ("a.String", "b.Json")}) == "key.converter: a.String → b.Json"  # not a secret


def topic_resource(partitions: int) -> Resource:
    return Resource("topic", "t", STEP_TOPICS, Topic(name="t", partitions=partitions), {"partitions": str(partitions)})


def test_impossible_refuses_shrinking_partitions():
    reason = impossible(topic_resource(1), {"partitions": "3"})
    assert "topic t has 3 partitions" in reason and "cannot remove partitions" in reason
    assert impossible(topic_resource(5), {"partitions": "3"}) == ""  # growing is fine
    assert impossible(topic_resource(3), {"partitions": "3"}) == ""
    assert impossible(topic_resource(1), None) == ""  # not created yet


def test_unmanaged_resources_are_only_topics(settings):
    decl = load(settings)
    found = resources(decl, settings, managed=False)
    assert [r.key for r in found] == [f"topic/{t.name}" for t in decl.topics]
    raw = found[0]
    assert raw.desired == {"partitions": str(settings.topic_partitions), "retention.ms": str(settings.topic_retention_ms),
                           "cleanup.policy": "delete"}  # fmt: skip


# ---- the confluent profile: topics planned through the Admin API, the rest cloud-managed ----------


class _FakeCloudKafka:
    """Stands in for Confluent Cloud's Admin API (no cloud account in the tests): one topic exists."""

    def __init__(self, topics: dict[str, tuple[int, dict[str, str]]]) -> None:
        self.state = topics

    def topic_config(self, name, keys):
        if name not in self.state:
            return None
        partitions, config = self.state[name]
        return {"partitions": str(partitions), **{k: v for k, v in config.items() if k in keys}}


def test_confluent_plan_covers_topics_and_lists_cloud_managed_resources(make_settings, tmp_path):
    from dataops.automation import plan

    settings = make_settings(profile="confluent", state_dir=tmp_path, kafka_bootstrap="pkc-x.confluent.cloud:9092")
    raw = settings.topic_raw
    kafka = _FakeCloudKafka({raw: (3, {"retention.ms": "86400000", "cleanup.policy": "delete"})})
    out = plan(SimpleNamespace(settings=settings, kafka=kafka)).set_index("recurso")
    assert out.loc[f"topic {raw}", "plan"] == "update" and "retention.ms: 86400000 → 604800000" in out.loc[f"topic {raw}", "cambios"]
    assert out.loc[f"topic {settings.topic_exploded}", "plan"] == "create"
    managed = out[out["plan"] == "cloud-managed"]
    assert len(managed) > 3 and managed["cambios"].str.startswith("confluent ").all(), managed
    assert {f"connector {settings.connector_name}", f"flink statement {settings.flink_job_name}",
            f"tableflow {settings.topic_exploded}"} <= set(managed.index)  # fmt: skip
    assert not any(name.startswith(("job ", "table ", "sink ")) for name in out.index)
