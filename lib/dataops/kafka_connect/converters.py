"""How the connectors write and read the topics' values (``DATAOPS_TOPIC_FORMAT``): JSON (the raw
poll's text; the exploded rows without schemas), or Confluent's Avro wire format through the
project's converter (``lib/stack/avro-converter``) with the profile's registry: the HTTP source
writes the raw topic with it, the Iceberg sink reads the exploded topic with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.config import Settings

if TYPE_CHECKING:
    from dataops.registry.local import Endpoint

AVRO_CONVERTER = "org.dataops.connect.avro.RegistryAvroConverter"  # lib/stack/avro-converter


def value_converter(settings: Settings) -> dict[str, str]:
    """How the sink reads the exploded topic's values: JSON without schemas, or (``DATAOPS_TOPIC_FORMAT=avro``)
    Confluent's Avro wire format with the writer's schema from the profile's registry, its login named
    through the worker's ``FileConfigProvider`` (:func:`registry_login_file`), never in the config."""
    if settings.topic_format == "json":
        return {"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"}
    from dataops.registry.layer import SchemaRegistryLayer

    where = SchemaRegistryLayer(settings).endpoint()
    out = {"value.converter": AVRO_CONVERTER, "value.converter.schema.registry.url": where.url}
    if login := registry_login(settings, where):
        out["value.converter.basic.auth.user.info"] = f"${{file:{login}:user.info}}"
    return out


def raw_value_converter(settings: Settings) -> dict[str, str]:
    """How the HTTP source writes its polls to the raw topic: as the body's text (JSON), or
    (``DATAOPS_TOPIC_FORMAT=avro``) through the project's converter in Confluent's Avro wire format, by the
    raw poll contract's Avro schema (:func:`dataops.registry.avro.avro_schema`), registered under
    ``<topic>-value`` at the first poll. A poll that schema cannot carry is kept as its JSON text, the
    header ``dataops.not-avro`` saying why (a source connector has no dead letter queue: the explode job
    judges it as in JSON). A registry out of reach is retried for up to 10 minutes before the task fails."""
    if settings.topic_format == "json":
        return {"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    from dataops.contract import raw_poll_schema
    from dataops.registry.avro import avro_schema

    schema = avro_schema(raw_poll_schema(settings.vs_currency))
    return {**value_converter(settings), "value.converter.avro.schema": json.dumps(schema, separators=(",", ":")),
            "errors.retry.timeout": "600000", "errors.retry.delay.max.ms": "10000"}  # fmt: skip


def registry_login(settings: Settings, where: Endpoint) -> Path | None:
    """The file holding the registry's login (:func:`registry_login_file`); None when it takes none."""
    if not where.key or where.secret is None:
        return None
    return registry_login_file(settings, f"{where.key}:{where.secret.get_secret_value()}")


def registry_login_file(settings: Settings, user_info: str) -> Path:
    """``<state>/conf/registry-login.properties`` (mode 600): the registry's ``key:secret`` for Connect's
    ``FileConfigProvider``; written when it differs."""
    from dataops.engine import properties
    from dataops.paths import write_private

    target = settings.paths.conf / "registry-login.properties"
    text = properties({"user.info": user_info})
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        write_private(target, text)
    return target
