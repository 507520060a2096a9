"""The Avro schemas derived from the project's JSON schemas, and Confluent's wire format."""

from __future__ import annotations

import json
import struct

import fastavro
import pytest

from dataops.config import PROJECT_ROOT
from dataops.contract import SCHEMA_DIR
from dataops.errors import ConfigError, DataOpsError
from dataops.registry import avro

pytestmark = pytest.mark.unit

SCHEMAS = SCHEMA_DIR
SAMPLES = PROJECT_ROOT / "data" / "samples"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLES / name).read_text().splitlines() if line.strip()]


def test_the_exploded_row_is_a_record_whose_nullable_fields_default_to_null():
    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    fastavro.parse_schema(schema)  # a valid Avro schema
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert schema["type"] == "record" and schema["name"] == "exploded_row" and schema["namespace"] == "dataops"
    assert types["coin_id"] == "string" and types["usd"] == "double" and types["last_updated_at"] == "long"
    assert types["usd_market_cap"] == ["null", "double"] and types["processed_at"] == ["null", "string"]
    assert types["event_time"] == "string"  # no timestamp type: Flink's avro-confluent cannot map TIMESTAMP_LTZ
    assert all(f.get("default", "absent") is None for f in schema["fields"] if isinstance(f["type"], list))


def test_the_raw_poll_keyed_by_coin_is_a_map_of_quotes():
    schema = avro.avro_schema(SCHEMAS / "raw_poll.json")
    (field,) = schema["fields"]
    assert field["type"]["type"] == "map" and field["type"]["values"]["type"] == "record"
    poll = _rows("raw_polls.jsonl")[0]
    value = avro.encode(schema, 7, {"value": poll})
    assert avro.decode(value, {7: schema}) == {"value": poll}


def test_every_sample_row_goes_through_the_wire_format_unchanged_and_smaller_than_json():
    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    rows = _rows("exploded_rows.jsonl")
    values = [avro.encode(schema, 42, row) for row in rows]
    assert all(v[:5] == struct.pack(">bI", 0, 42) for v in values)  # magic byte, then the id big-endian
    assert [avro.decode(v, {42: schema}) for v in values] == rows
    assert sum(map(len, values)) < sum(len(json.dumps(r).encode()) for r in rows)


def test_a_message_that_is_not_the_wire_format_or_has_an_unknown_id_is_one_line():
    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    with pytest.raises(DataOpsError, match="byte mágico") as info:
        avro.decode(b'{"coin_id": "bitcoin"}', {1: schema})
    assert "\n" not in str(info.value)
    value = avro.encode(schema, 3, _rows("exploded_rows.jsonl")[0])
    with pytest.raises(DataOpsError, match="esquema 3"):
        avro.decode(value, {1: schema})


def test_a_row_that_does_not_fit_is_one_line_naming_the_schema():
    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    row = {**_rows("exploded_rows.jsonl")[0], "usd": "caro"}
    with pytest.raises(DataOpsError, match="exploded_row") as info:
        avro.encode(schema, 1, row)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("spec, where", [
    ({"title": "t", "type": "object", "properties": {"a": {"type": ["string", "number"]}}, "required": ["a"]}, "t.a"),
    ({"title": "t", "type": "object", "properties": {"a": {"type": "string"}}}, "t.a"),  # optional, not nullable
    ({"title": "t", "type": "object", "additionalProperties": True}, "t"),
    ({"title": "t", "type": "object", "properties": {"a": {"type": "array"}}, "required": ["a"]}, "t.a"),
])  # fmt: skip
def test_a_json_schema_with_no_avro_equivalent_is_one_line_naming_where(spec, where):
    with pytest.raises(ConfigError) as info:
        avro.avro_schema(spec)
    assert str(info.value).startswith(f"{where}:") and "\n" not in str(info.value)


def test_the_subject_of_a_topic_is_its_name_dash_value():
    assert avro.subject("crypto-prices-exploded") == "crypto-prices-exploded-value"


class _Message:
    """What `_record` reads of a consumed confluent_kafka Message."""

    def __init__(self, value: bytes | None) -> None:
        self._value = value

    def value(self):
        return self._value

    def key(self):
        return b"bitcoin"

    def topic(self):
        return "crypto-prices-exploded"

    def partition(self):
        return 0

    def offset(self):
        return 5

    def timestamp(self):
        return (1, 1_790_000_000_000)

    def headers(self):
        return None

    def error(self):
        return None


def test_an_avro_message_reads_as_its_record_and_json_stays_as_it_is():
    from dataops.kafka.layer import _record, records_frame

    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    row = _rows("exploded_rows.jsonl")[0]
    fetched: list[int] = []
    decoder = avro.Decoder(lambda sid: fetched.append(sid) or schema)
    records = [_record(_Message(avro.encode(schema, 9, row)), decoder) for _ in range(3)]
    records.append(_record(_Message(json.dumps(row).encode()), decoder))
    frame = records_frame(records)
    assert list(frame["payload"]) == [row] * 4  # Avro (three) and JSON (one) alike
    assert fetched == [9]  # the schema is fetched once per id
    assert avro.is_wire_format(avro.encode(schema, 9, row)) and not avro.is_wire_format(b"{}") and not avro.is_wire_format(None)


def test_a_raw_poll_is_wrapped_in_one_field_and_reads_back_as_the_poll_itself():
    """The poll keyed by coin id is a map: the registry's subject is a record, so the schema wraps it in
    one field, ``value``; a reader (``p.kafka``, and the job's ``AVRO_POLL``) hands back the poll as it was."""
    schema = avro.avro_schema(SCHEMAS / "raw_poll.json")
    exploded = avro.avro_schema(SCHEMAS / "exploded_row.json")
    assert avro.wraps(schema) and not avro.wraps(exploded)
    assert not avro.wraps({"type": "record", "name": "r", "fields": [{"name": "value", "type": "string"}]})
    poll = json.loads((SAMPLES / "raw_polls.jsonl").read_text().splitlines()[0])
    decoder = avro.Decoder(lambda sid: schema)
    assert decoder(avro.encode(schema, 4, {"value": poll})) == poll
    with pytest.raises(DataOpsError, match="no encaja"):  # a drifted poll does not fit: the converter keeps its text
        avro.encode(schema, 4, {"value": {coin: {"usd_price": 1.0} for coin in poll}})


def test_a_message_that_does_not_decode_is_shown_whole_and_the_read_goes_on():
    """An unknown schema id (asked of the registry once) or a body its schema cannot read: the record keeps
    its bytes in base64, says why in a header, and the records after it still decode."""
    import base64

    from dataops.kafka.layer import _record

    schema = avro.avro_schema(SCHEMAS / "exploded_row.json")
    row = _rows("exploded_rows.jsonl")[0]
    asked: list[int] = []

    def fetch(sid):
        asked.append(sid)
        if sid != 9:
            raise avro.UndecodableError(f"no schema {sid}", "")
        return schema

    decoder = avro.Decoder(fetch)
    unknown = bytes([0, 0, 0, 0, 77]) + b"whatever"
    truncated = avro.encode(schema, 9, row)[:12]
    for bad in (unknown, unknown, truncated):
        record = _record(_Message(bad), decoder)
        assert record.value == base64.b64encode(bad).decode() and avro.UNDECODABLE_HEADER in record.headers
    assert json.loads(_record(_Message(avro.encode(schema, 9, row)), decoder).value) == row
    assert asked == [77, 9]  # an unknown id is asked once
