"""The record contract: what one exploded row is, defined once.

``data/schemas/exploded_row.json`` is the one definition of the row the Flink job
writes (one coin of one poll). Everything else is derived from it here: the Flink
DDL of the exploded topic, the Iceberg table's schema, the columns the monitor and
the quality suite read, and the JSON schemas the quality suite validates.

The schema files are written for the default currency, ``usd``: a field named
``usd`` or ``usd_<suffix>`` carries the ``vs_currency`` setting (``eur``,
``eur_market_cap``, …), as CoinGecko names them after ``vs_currencies``.

Example::

    c = contract_for(settings)          # or load_contract("eur")
    c.names, c.price, c.flink_columns(), c.iceberg_schema()
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dataops.config import DATA_DIR, Settings
from dataops.errors import ConfigError

SCHEMA_DIR = DATA_DIR / "schemas"
EXPLODED_SCHEMA = SCHEMA_DIR / "exploded_row.json"
RAW_SCHEMA = SCHEMA_DIR / "raw_poll.json"
DEFAULT_CURRENCY = "usd"
KEY = "coin_id"  # the Kafka key of the exploded topic: never null


def currency_name(name: str, currency: str) -> str:
    """``usd`` → ``eur``, ``usd_market_cap`` → ``eur_market_cap``; other names unchanged."""
    if name == DEFAULT_CURRENCY or name.startswith(DEFAULT_CURRENCY + "_"):
        return currency + name[len(DEFAULT_CURRENCY):]
    return name


def for_currency(schema: dict[str, Any], currency: str) -> dict[str, Any]:
    """A JSON schema with its currency fields renamed (``properties`` keys and ``required``)."""
    out = copy.deepcopy(schema)
    if currency == DEFAULT_CURRENCY:
        return out

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                node["properties"] = {currency_name(k, currency): v for k, v in node["properties"].items()}
            if isinstance(node.get("required"), list):
                node["required"] = [currency_name(k, currency) for k in node["required"]]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


@dataclass(frozen=True)
class Column:
    """One field of the row: its name and JSON type, and what the engines call that type."""

    name: str
    json_type: str  # number, integer, string
    nullable: bool
    timestamp: bool = False  # a string with format date-time

    @property
    def flink_type(self) -> str:
        base = "TIMESTAMP_LTZ(3)" if self.timestamp else {"number": "DOUBLE", "integer": "BIGINT", "string": "STRING"}[self.json_type]
        return f"{base} NOT NULL" if self.name == KEY else base

    @property
    def numeric(self) -> bool:
        return self.json_type in ("number", "integer")


@dataclass(frozen=True)
class RowContract:
    """The exploded row for one currency.

    Attributes:
        currency: The ``vs_currency`` the price fields are named after.
        columns: The fields, in the schema file's order.
        schema: The JSON schema of a row, fields named for ``currency``.
    """

    currency: str
    columns: tuple[Column, ...]
    schema: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def price(self) -> str:
        """The price column (``usd`` by default)."""
        return self.currency

    @property
    def numeric(self) -> tuple[str, ...]:
        """Numeric fields (prices, market data, the poll's timestamp)."""
        return tuple(c.name for c in self.columns if c.numeric)

    @property
    def coin_fields(self) -> tuple[str, ...]:
        """The fields a coin's entry carries in a raw poll (the row less the coin id and the times Flink adds)."""
        return tuple(c.name for c in self.columns if c.name != KEY and not c.timestamp)

    def flink_columns(self, indent: str = "  ") -> str:
        """The column list of the Flink DDL of the exploded topic."""
        width = max(len(c.name) for c in self.columns) + 1
        return f",\n{indent}".join(f"{c.name:<{width}}{c.flink_type}" for c in self.columns)

    def iceberg_schema(self):
        """The Iceberg table's schema (pyiceberg), field ids in file order, every field optional
        (the sink writes what Flink wrote; the quality suite judges nulls)."""
        from pyiceberg.schema import Schema
        from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

        def kind(c: Column):
            if c.timestamp:
                return TimestamptzType()
            return {"number": DoubleType(), "integer": LongType(), "string": StringType()}[c.json_type]

        return Schema(*(NestedField(i, c.name, kind(c), required=False) for i, c in enumerate(self.columns, start=1)))


def read_json(path: Path, what: str = "record contract", error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """A JSON file of the project (a schema); a missing or malformed one is one line naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}", exc.strerror or str(exc)) from None
    except json.JSONDecodeError as exc:
        raise error(f"malformed {what} {path.name} line {exc.lineno}", exc.msg) from None


def _column(name: str, spec: dict[str, Any], required: set[str], where: str) -> Column:
    types = spec.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    kinds = [t for t in types if t != "null"]
    if len(kinds) != 1 or kinds[0] not in ("number", "integer", "string"):
        raise ConfigError(f"{where}: field {name!r} has type {types!r}", "use one of number, integer, string (optionally with null)")
    return Column(
        name=name,
        json_type=kinds[0],
        nullable="null" in types or name not in required,
        timestamp=kinds[0] == "string" and spec.get("format") == "date-time",
    )


@lru_cache(maxsize=16)
def load_contract(currency: str = DEFAULT_CURRENCY, path: str | Path | None = None) -> RowContract:
    """The row contract from ``data/schemas/exploded_row.json`` (or ``path``), for ``currency``."""
    where = Path(path) if path else EXPLODED_SCHEMA
    schema = for_currency(read_json(where), currency)
    props = schema.get("properties")
    if not isinstance(props, dict) or KEY not in props:
        raise ConfigError(f"{where.name} defines no {KEY!r} property", "the exploded row is keyed by coin_id")
    required = set(schema.get("required", []))
    columns = tuple(_column(name, spec, required, where.name) for name, spec in props.items())
    return RowContract(currency=currency, columns=columns, schema=schema)


def contract_for(settings: Settings) -> RowContract:
    """The row contract of the configured currency."""
    return load_contract(settings.vs_currency)


def raw_poll_schema(currency: str = DEFAULT_CURRENCY) -> dict[str, Any]:
    """The JSON schema of one ``/simple/price`` poll, fields named for ``currency``."""
    return for_currency(read_json(RAW_SCHEMA), currency)
