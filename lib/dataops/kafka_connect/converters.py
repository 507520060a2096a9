"""How a sink connector reads the exploded topic's values (``DATAOPS_TOPIC_FORMAT``): JSON without
schemas, or Confluent's Avro wire format through the project's converter (``lib/stack/avro-converter``)
with the writer's schema from the profile's registry."""

from __future__ import annotations

from pathlib import Path

from dataops.config import Settings

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
    if where.key and where.secret is not None:
        login = registry_login_file(settings, f"{where.key}:{where.secret.get_secret_value()}")
        out["value.converter.basic.auth.user.info"] = f"${{file:{login}:user.info}}"
    return out


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
