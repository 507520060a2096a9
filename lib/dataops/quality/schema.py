"""A small JSON-schema validator: the subset the record contracts use."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dataops.errors import SchemaError

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and math.isfinite(v) and v.is_integer()),
}
_KEYWORDS = {
    "type", "required", "properties", "additionalProperties", "patternProperties", "minimum",
    "exclusiveMinimum", "maximum", "minProperties", "pattern", "format", "enum", "title", "description",
}  # fmt: skip


def validate(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Validate ``value`` against a JSON-schema subset; returns readable errors (empty = valid).

    Supported: type (incl. lists), required, properties, additionalProperties (bool or schema),
    patternProperties, minimum, exclusiveMinimum, maximum, minProperties, pattern, enum,
    format date-time.

    Raises:
        SchemaError: The schema uses another keyword.
    """
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise SchemaError(f"unsupported JSON-schema keyword(s) {', '.join(sorted(unknown))} at {path}")
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{path}: expected {'|'.join(types)}, got {_type_name(value)} {_short(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {_short(value)} not in {schema['enum']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: {value} <= {schema['exclusiveMinimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {_short(value)} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                errors.append(f"{path}: {_short(value)} is not an ISO date-time")
    if isinstance(value, dict):
        errors.extend(_validate_object(value, schema, path))
    return errors


def _validate_object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors = [f"{path}: missing required key {key!r}" for key in schema.get("required", []) if key not in value]
    if len(value) < schema.get("minProperties", 0):
        errors.append(f"{path}: {len(value)} key(s), at least {schema['minProperties']} expected")
    props = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = f"{path}.{key}"
        matched = False
        if key in props:
            matched = True
            errors.extend(validate(item, props[key], sub))
        for pattern, pschema in patterns.items():
            if re.search(pattern, str(key)):
                matched = True
                errors.extend(validate(item, pschema, sub))
        if not matched:
            if extra is False:
                errors.append(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                errors.extend(validate(item, extra, sub))
    return errors


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
