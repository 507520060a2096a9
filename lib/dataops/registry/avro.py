"""Avro for the ``confluent`` profile: the project's JSON schemas as Avro records, and Confluent's
wire format (what ``KafkaAvroSerializer`` and Flink's ``avro-confluent`` format write).

The contract stays ``data/schemas/*.json`` (the local profile writes JSON): :func:`avro_schema`
derives the Avro schema the registry keeps under ``<topic>-value`` from it, so the two never drift.
Numbers are ``double``, integers ``long``, a type that may be ``null`` a union with ``null`` first
(default null, the registry's BACKWARD rule for an added field), an object keyed by a pattern (the
raw poll: coin id -> quote) a ``map``. Date-times stay strings: Flink's ``avro-confluent`` cannot map
``TIMESTAMP_LTZ``, and the exploded row's ``event_time`` is an ISO string in JSON too.

A message is ``0x00``, the schema id (4 bytes, big-endian), then the Avro binary body.
"""

from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path
from typing import Any, Callable, Mapping

from dataops.errors import ConfigError, DataOpsError, UndecodableError

__all__ = ["MAGIC", "UNDECODABLE_HEADER", "Decoder", "UndecodableError", "avro_schema", "decode", "encode", "is_wire_format", "schema_id", "subject", "wraps"]

MAGIC = 0
#: The header ``p.kafka`` adds to a message in the wire format that does not decode (its value: why).
UNDECODABLE_HEADER = "dataops.undecodable"
_HEADER = struct.Struct(">bI")
_SCALARS = {"string": "string", "number": "double", "integer": "long", "boolean": "boolean"}


def subject(topic: str) -> str:
    """The registry subject of a topic's values (Confluent's TopicNameStrategy): ``<topic>-value``."""
    return f"{topic}-value"


def _name(text: str) -> str:
    """An Avro name from a title or a property: letters, digits and ``_``, not starting with a digit."""
    name = re.sub(r"\W", "_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


def _type(spec: Mapping[str, Any], where: str, name: str) -> Any:
    kind = spec.get("type")
    kinds = list(kind) if isinstance(kind, list) else [kind]
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: el tipo {kind!r} no tiene equivalente Avro",
                          "usa un solo tipo JSON por campo (o ese tipo y null)")  # fmt: skip
    base: Any
    if kinds[0] in _SCALARS:
        base = _SCALARS[kinds[0]]
    elif kinds[0] == "object":
        base = _object(spec, where, name)
    elif kinds[0] == "array" and isinstance(spec.get("items"), Mapping):
        base = {"type": "array", "items": _type(spec["items"], f"{where}[]", f"{name}_item")}
    else:
        raise ConfigError(f"{where}: el tipo {kinds[0]!r} no tiene equivalente Avro",
                          "usa string, number, integer, boolean, object o array")  # fmt: skip
    return ["null", base] if nullable else base


def _object(spec: Mapping[str, Any], where: str, name: str) -> dict[str, Any]:
    properties = spec.get("properties") or {}
    patterns = spec.get("patternProperties") or {}
    if patterns and not properties and len(patterns) == 1:  # keyed by data (a coin id): a map
        (values,) = patterns.values()
        return {"type": "map", "values": _type(values, f"{where}.*", f"{name}_value")}
    if patterns or not properties:
        raise ConfigError(f"{where}: un objeto sin propiedades fijas ni un solo patrón de claves no tiene equivalente Avro",
                          "declara sus propiedades (record) o un solo patternProperties (map)")  # fmt: skip
    required = set(spec.get("required") or ())
    fields = []
    for prop, sub in properties.items():
        field: dict[str, Any] = {"name": prop, "type": _type(sub, f"{where}.{prop}", f"{name}_{prop}")}
        if isinstance(field["type"], list):  # nullable: null first, default null
            field["default"] = None
        elif prop not in required:
            raise ConfigError(f"{where}.{prop}: un campo opcional necesita admitir null en Avro",
                              'añade "null" a su tipo o ponlo en required')  # fmt: skip
        if sub.get("description"):
            field["doc"] = sub["description"]
        fields.append(field)
    return {"type": "record", "name": _name(name), "fields": fields}


def avro_schema(json_schema: Mapping[str, Any] | str | Path, namespace: str = "dataops") -> dict[str, Any]:
    """The Avro schema of one of the project's JSON schemas (a dict, its text, or its file).

    Raises:
        ConfigError: A construct with no Avro equivalent, named by its path in the schema.
    """
    if isinstance(json_schema, Path):
        json_schema = json_schema.read_text(encoding="utf-8")
    spec = json.loads(json_schema) if isinstance(json_schema, str) else json_schema
    title = str(spec.get("title") or "row")
    out = _type(spec, title, title)
    if isinstance(out, dict) and out.get("type") == "record":
        out = {**out, "namespace": namespace}
        if spec.get("description"):
            out["doc"] = spec["description"]
    else:  # a map or an array at the top: a record of one field, as Avro subjects are records
        out = {"type": "record", "name": _name(title), "namespace": namespace, "fields": [{"name": "value", "type": out}]}
    return out


def _parsed(schema: Mapping[str, Any]) -> Any:
    import fastavro

    return fastavro.parse_schema(dict(schema))


def encode(schema: Mapping[str, Any], schema_id: int, record: Mapping[str, Any]) -> bytes:
    """One message value in Confluent's wire format: magic byte, schema id, Avro body.

    Raises:
        DataOpsError: The record does not fit the schema (one line naming the field).
    """
    import fastavro

    out = io.BytesIO()
    out.write(_HEADER.pack(MAGIC, schema_id))
    try:
        fastavro.schemaless_writer(out, _parsed(schema), dict(record))
    except (ValueError, TypeError, KeyError) as exc:
        raise DataOpsError(f"el registro no encaja en el esquema Avro {schema.get('name')}: {str(exc).splitlines()[0]}",
                           "compara el registro con data/schemas/ (o registra la versión nueva del esquema)") from None  # fmt: skip
    return out.getvalue()


def schema_id(value: bytes) -> int:
    """The registry id a wire-format message was written with.

    Raises:
        DataOpsError: Not Confluent's wire format (no magic byte: JSON, or another serializer).
    """
    if len(value) < _HEADER.size or value[0] != MAGIC:
        raise DataOpsError("el mensaje no está en el formato Avro del Schema Registry (falta el byte mágico 0)",
                           "lee el tópico como JSON, o comprueba el serializador del productor")  # fmt: skip
    return int(_HEADER.unpack_from(value)[1])


def decode(value: bytes, schemas: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The record of a wire-format message; ``schemas``: registry id -> Avro schema.

    Raises:
        DataOpsError: Not the wire format, or written with an id ``schemas`` lacks (one line each).
    """
    import fastavro

    sid = schema_id(value)
    if sid not in schemas:
        raise UndecodableError(f"el mensaje se escribió con el esquema {sid}, que no está entre los leídos del registro",
                               "vuelve a leer los esquemas del sujeto en el Schema Registry")  # fmt: skip
    try:
        record = fastavro.schemaless_reader(io.BytesIO(value[_HEADER.size :]), _parsed(schemas[sid]))
    except (EOFError, ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError, struct.error) as exc:
        raise UndecodableError(f"el mensaje no se lee con el esquema {sid}: {type(exc).__name__}",
                               "otro productor escribió en el tópico con ese id: el job lo manda a la DLQ (`dataops dlq`)") from None  # fmt: skip
    if not isinstance(record, dict):  # the project's subjects are records (avro_schema makes them so)
        raise DataOpsError(f"el esquema {sid} no es un record de Avro", "registra un esquema de tipo record para el tópico")
    return record


def wraps(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` is how :func:`avro_schema` wraps a document that is not a record (a poll keyed by
    coin id): a record of one field, ``value``, holding a map or an array. The project's Java side (the
    converter and ``AVRO_POLL``) reads the same rule."""
    fields = schema.get("fields") if schema.get("type") == "record" else None
    if not isinstance(fields, list) or len(fields) != 1 or fields[0].get("name") != "value":
        return False
    inner = fields[0].get("type")
    return isinstance(inner, Mapping) and inner.get("type") in ("map", "array")


class Decoder:
    """Decodes wire-format messages, fetching each schema id once (``fetch``: id -> Avro schema,
    e.g. :meth:`SchemaRegistryLayer.schema <dataops.registry.layer.SchemaRegistryLayer.schema>`);
    a wrapped document (:func:`wraps`: the raw poll) comes back as the document itself."""

    def __init__(self, fetch: Callable[[int], Mapping[str, Any]]) -> None:
        self._fetch = fetch
        self._schemas: dict[int, Mapping[str, Any]] = {}
        self._unknown: dict[int, UndecodableError] = {}  # ids the registry said it does not have: asked once

    def __call__(self, value: bytes) -> dict[str, Any]:
        sid = schema_id(value)
        if sid in self._unknown:
            raise self._unknown[sid]
        if sid not in self._schemas:
            try:
                self._schemas[sid] = self._fetch(sid)
            except UndecodableError as exc:
                self._unknown[sid] = exc
                raise
        record = decode(value, self._schemas)
        return record["value"] if wraps(self._schemas[sid]) else record


def is_wire_format(value: bytes | None) -> bool:
    """Whether a message value looks like Confluent's Avro wire format (JSON starts with ``{``, not 0)."""
    return value is not None and len(value) > _HEADER.size and value[0] == MAGIC
