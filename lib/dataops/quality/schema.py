"""JSON-schema validation of the project's records: one object with the ``jsonschema`` package
(Draft 2020-12), or a whole DataFrame of flat rows column by column.

Numbers must be finite (JSON has no NaN or Infinity; Python's parser lets them through), and
``format: date-time`` is checked (an ISO 8601 timestamp).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from dataops.errors import SchemaError

# The keywords the column-wise check understands on a property.
_KEYWORDS = {"type", "minimum", "exclusiveMinimum", "maximum", "pattern", "format", "enum", "title", "description"}


def _finite_number(checker: Any, value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _finite_integer(checker: Any, value: Any) -> bool:
    return _finite_number(checker, value) and float(value).is_integer()


@lru_cache(maxsize=32)
def _validator(schema_json: str) -> Any:
    import json

    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker

    schema = json.loads(schema_json)
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"esquema JSON no válido: {exc.message}", "corrige el fichero del esquema en data/schemas/") from None
    types = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _finite_number, "integer": _finite_integer})
    cls = jsonschema.validators.extend(Draft202012Validator, type_checker=types)
    formats = FormatChecker(formats=())
    formats.checks("date-time", raises=ValueError)(lambda v: not isinstance(v, str) or bool(datetime.fromisoformat(v)))
    return cls(schema, format_checker=formats)


def validate(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Validate ``value`` against ``schema`` (Draft 2020-12); readable errors, empty when valid.

    Raises:
        SchemaError: The schema itself is not a valid JSON schema.
    """
    import json

    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.validator != "required", e.validator))
    return [f"{path}{e.json_path[1:]}: {_short_message(e.message)}" for e in errors]


def _short_message(message: str, width: int = 120) -> str:
    return message if len(message) <= width else message[: width - 3] + "..."


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


# ---- column-wise: a flat object schema over a DataFrame (one row = one object) ----------------
_FRAME_KEYWORDS = {"type", "required", "properties", "additionalProperties", "title", "description"}
_IGNORED_COLUMNS = ("poll", "poll_time")


def failing_rows(frame: Any, schema: Mapping[str, Any]) -> Any:
    """A boolean Series: which rows of ``frame`` break the flat object ``schema``, column by column
    (the same verdict :func:`validate` gives each row as a JSON object, without a loop over rows).

    Raises:
        SchemaError: The schema is not a flat object schema of the supported keywords.
    """
    import pandas as pd

    unknown = set(schema) - _FRAME_KEYWORDS
    if unknown or schema.get("type", "object") != "object":
        raise SchemaError(f"la validación por columnas necesita un esquema de objeto plano (recibido: {', '.join(sorted(unknown)) or schema.get('type')})",
                          "usa un esquema `type: object` con `properties` de tipos simples")
    bad = pd.Series(False, index=frame.index)
    if not len(frame):
        return bad
    props = schema.get("properties", {})
    if any(key not in frame for key in schema.get("required", [])):
        return ~bad
    if schema.get("additionalProperties", True) is False and any(c not in props and c not in _IGNORED_COLUMNS for c in frame):
        return ~bad
    for name, sub in props.items():
        if name in frame:
            bad |= _column_fails(frame[name], sub)
    return bad


def _column_fails(col: Any, schema: Mapping[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise SchemaError(f"palabras clave de JSON Schema no soportadas: {', '.join(sorted(unknown))}",
                          "quítalas del esquema o valida fila a fila")
    types = schema.get("type", [])
    types = types if isinstance(types, list) else [types]
    null = col.isna()
    present = ~null
    bad = null & ("null" not in types) if types else pd.Series(False, index=col.index)
    is_time = isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)
    # One kind for a typed column (fast path); one per value only for an object column.
    kind: Any
    if pd.api.types.is_bool_dtype(col.dtype):
        kind = "boolean"
    elif pd.api.types.is_numeric_dtype(col.dtype):
        kind = "number"
    elif is_time or (pd.api.types.is_string_dtype(col.dtype) and col.dtype != object):
        kind = "string"  # a timestamp is written as an ISO string
    else:
        kind = col.map(_type_name)

    def of_kind(name: str) -> Any:
        return pd.Series(kind == name, index=col.index) if isinstance(kind, str) else kind == name

    numeric = of_kind("number")
    numbers = None
    if numeric.any():
        numbers = col.astype("float64") if isinstance(kind, str) else pd.to_numeric(col.where(numeric), errors="coerce")
    allowed = pd.Series(False, index=col.index)
    for t in types:
        if t in ("number", "integer") and numbers is not None:
            ok = numeric & np.isfinite(numbers)
            allowed |= ok & (numbers == np.floor(numbers)) if t == "integer" else ok
        elif t not in ("null", "number", "integer"):
            allowed |= of_kind(t)
    if types:
        bad |= present & ~allowed
    if numbers is not None:
        for key, fails in (("minimum", numbers.lt), ("exclusiveMinimum", numbers.le), ("maximum", numbers.gt)):
            if key in schema:
                bad |= fails(schema[key]).fillna(False)
    if "enum" in schema:
        bad |= present & ~col.isin(schema["enum"])
    strings = present & of_kind("string") & (not is_time)
    if "pattern" in schema and strings.any():
        bad |= strings & ~col.where(strings, "").astype(str).str.contains(schema["pattern"], regex=True)
    if schema.get("format") == "date-time" and strings.any():
        parsed = pd.to_datetime(col.where(strings), errors="coerce", format="ISO8601", utc=True)
        bad |= strings & parsed.isna()
    return bad
