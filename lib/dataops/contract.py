"""The record contract: what one exploded row is, defined once.

``data/schemas/exploded_row.json`` is the one definition of the row the Flink job
writes (one coin of one poll). Everything else is derived from it here: the Flink
DDL of the exploded topic, the Iceberg table's schema, the columns the monitor and
the quality suite read, and the JSON schemas the quality suite validates.

The schema files are written for the default currency, ``usd``: a field named
``usd`` or ``usd_<suffix>`` carries the ``vs_currency`` setting (``eur``,
``eur_market_cap``, …), as CoinGecko names them after ``vs_currencies``.

The same file states which coin entries the Flink job rejects: :meth:`RowContract.rules`
turns each field's type, ``minimum`` / ``exclusiveMinimum`` / ``maximum`` /
``exclusiveMaximum`` and ``pattern`` (and "numbers are finite") into named rejection
reasons, rendered as the job's SQL (:meth:`RowContract.flink_checks`) and evaluated in
Python (:meth:`RowContract.violation`, used to check a fixed dead letter before replaying it).

Example::

    c = contract_for(settings)          # or load_contract("eur")
    c.names, c.price, c.flink_columns(), c.iceberg_schema()
    c.violation("bitcoin", {"usd": 0, ...})   # 'non_positive:usd'
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataops.config import DATA_DIR, Settings
from dataops.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

SCHEMA_DIR = DATA_DIR / "schemas"
EXPLODED_SCHEMA = SCHEMA_DIR / "exploded_row.json"
RAW_SCHEMA = SCHEMA_DIR / "raw_poll.json"
DEFAULT_CURRENCY = "usd"
KEY = "coin_id"  # the Kafka key of the exploded topic: never null
# The one rule beyond the schema file: the poll's timestamp is plausible epoch *seconds* (2009..2100),
# not milliseconds. Stating it in the file (minimum/maximum) is a backward-incompatible change for
# `dataops schemas --against`; until that is decided, it lives here, for the job and Python alike.
EPOCH_FIELD, EPOCH_SECONDS = "last_updated_at", (1_230_768_000, 4_102_444_800)


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
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: float | None = None
    pattern: str | None = None

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

    def rules(self) -> tuple[Rule, ...]:
        """The reasons a coin entry is rejected, in the order they are checked (first one wins).

        Derived from the schema: the coin id's ``pattern``; then per coin field, in file
        order: missing (a required, non-null field), non-finite, wrong type, then its bounds.
        """
        out = [Rule(KEY, f"bad_format:{KEY}", "pattern", c.pattern) for c in self.columns if c.name == KEY and c.pattern]
        for name in self.coin_fields:
            c = self.column(name)
            if not c.nullable:
                out.append(Rule(name, f"missing_or_null:{name}", "missing"))
            if c.numeric:
                out.append(Rule(name, f"non_finite:{name}", "finite"))
            kind = {"number": "not_a_number", "integer": "not_an_integer", "string": "not_a_string"}[c.json_type]
            out.append(Rule(name, f"{kind}:{name}", "type", c.json_type))
            out += _bound_rules(c)
            if name == EPOCH_FIELD and c.json_type == "integer":
                out += [Rule(name, f"out_of_range:{name}", "minimum", EPOCH_SECONDS[0]),
                        Rule(name, f"out_of_range:{name}", "maximum", EPOCH_SECONDS[1])]  # fmt: skip
            if c.pattern and c.json_type == "string":
                out.append(Rule(name, f"bad_format:{name}", "pattern", c.pattern))
        return tuple(out)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def violation(self, coin_id: Any, entry: Any) -> str | None:
        """The reason the Flink job would reject this coin entry (None: it would explode it).

        The same rules as :meth:`flink_checks`, evaluated on a parsed JSON entry.
        """
        if not isinstance(entry, dict):
            return "entry_not_an_object"
        for rule in self.rules():
            value = coin_id if rule.field == KEY else entry.get(rule.field)
            if rule.broken_by(value):
                return rule.reason
        return None

    def flink_extraction(self) -> dict[str, str]:
        """The SQL that pulls each coin field out of a coin's JSON entry, as ``${placeholders}``.

        Steps, each a row the next one reads (so nothing is computed twice), from ``m.fields``
        (the entry's members, ``JSON_MEMBERS``): the field's JSON text (``w_<field>``:
        ``95000.1`` for a number, ``"95000.1"`` for a string, NULL when missing or null); for a
        numeric field, the double that text reads as, quotes trimmed (``num_<field>``: what the
        non-finite rule judges); then the typed column, where only a JSON number (never a
        string) counts.
        """
        wrapped = [f"m.fields['{n}']" for n in self.coin_fields]
        numeric = [n for n in self.coin_fields if self.column(n).numeric]
        numbers = [f"TRY_CAST(TRIM(BOTH '\"' FROM w.w_{n}) AS DOUBLE)" for n in numeric]
        values = []
        for name in self.coin_fields:
            c, w, d = self.column(name), f"w.w_{name}", f"n.num_{name}"
            if c.json_type == "string":
                values.append(f"CASE WHEN {w} LIKE '\"%' THEN JSON_VALUE(e.entry, '$.{name}') END")
            elif c.json_type == "integer":  # as JSON Schema: 1.7E9 and 5.0 are integers, 5.5 is not
                values.append(f"CASE WHEN {w} NOT LIKE '\"%' AND {d} = FLOOR({d}) AND ABS({d}) < 9.2E18 "
                              f"THEN CAST({d} AS BIGINT) END")  # fmt: skip
            else:
                values.append(f"CASE WHEN {w} NOT LIKE '\"%' THEN {d} END")
        if not numbers:  # a ROW needs one field
            numbers, numeric = ["CAST(NULL AS DOUBLE)"], ["_none"]
        return {
            "coin_wrapped": ",\n    ".join(wrapped),
            "coin_wrapped_names": ", ".join(f"w_{n}" for n in self.coin_fields),
            "coin_numbers": ",\n    ".join(numbers),
            "coin_number_names": ", ".join(f"num_{n}" for n in numeric),
            "coin_values": ",\n    ".join(values),
            "coin_typed": ",\n  ".join([f"w.w_{n}" for n in self.coin_fields] + [f"n.num_{n}" for n in numeric]
                                       + [f"t.{n}" for n in self.coin_fields]),  # fmt: skip
            "coin_fields": ", ".join(self.coin_fields),
        }

    def flink_checks(self, indent: str = "    ") -> str:
        """The ``WHEN … THEN 'reason'`` lines of the job's CASE, one per rule, in :meth:`rules` order."""
        return f"\n{indent}".join(f"WHEN {r.flink_condition()} THEN '{r.reason}'" for r in self.rules())

    def flink_columns(self, indent: str = "  ") -> str:
        """The column list of the Flink DDL of the exploded topic."""
        width = max(len(c.name) for c in self.columns) + 1
        return f",\n{indent}".join(f"{c.name:<{width}}{c.flink_type}" for c in self.columns)

    def iceberg_schema(self) -> Schema:
        """The Iceberg table's schema (pyiceberg), field ids in file order, every field optional
        (the sink writes what Flink wrote; the quality suite judges nulls)."""
        from pyiceberg.schema import Schema
        from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

        def kind(c: Column):
            if c.timestamp:
                return TimestamptzType()
            return {"number": DoubleType(), "integer": LongType(), "string": StringType()}[c.json_type]

        return Schema(*(NestedField(i, c.name, kind(c), required=False) for i, c in enumerate(self.columns, start=1)))


# What Java's Double.parseDouble (Flink's TRY_CAST) reads as a number, so Python judges a string alike.
_JAVA_NUMBER = re.compile(r"\s*[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*")


def _java_double(value: Any) -> float | None:
    """The double Flink's TRY_CAST would read from this JSON value's text, unquoted (None: none)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _JAVA_NUMBER.fullmatch(value):
        return float(value.strip().replace("Infinity", "inf"))
    return None


@dataclass(frozen=True)
class Rule:
    """One reason a coin entry is rejected: a field, the reason's name, the kind of test, its limit.

    Kinds: ``missing``, ``finite``, ``type`` (limit: the JSON type), ``minimum``,
    ``exclusive_minimum``, ``maximum``, ``exclusive_maximum`` (limit: the bound) and
    ``pattern`` (limit: the regular expression).
    """

    field: str
    reason: str
    kind: str
    limit: Any = None

    def flink_condition(self) -> str:
        """The SQL condition, on the columns of the job's ``coin_typed`` view, that is TRUE when broken."""
        f, w = self.field, f"w_{self.field}"
        if self.kind == "missing":
            return f"{w} IS NULL"
        if self.kind == "finite":  # a JSON number or a quoted one ("NaN": how the job reads the bare literal)
            # Not NOT (x BETWEEN …): Calcite turns it into x < … OR x > …, which NaN passes. A double
            # beyond the largest finite one is infinite; Java reads NaN only from text that says NaN.
            return f"num_{f} IS NOT NULL AND (ABS(num_{f}) > {_MAX_DOUBLE} OR POSITION('NaN' IN {w}) > 0)"
        if self.kind == "type":
            return f"{w} IS NOT NULL AND {f} IS NULL"
        if self.kind == "pattern":
            return f"NOT REGEXP({f}, '{self.limit}')"
        op = {"minimum": "<", "exclusive_minimum": "<=", "maximum": ">", "exclusive_maximum": ">="}[self.kind]
        return f"{f} {op} {_sql_number(self.limit)}"

    def broken_by(self, value: Any) -> bool:
        """True when ``value`` (the field's parsed JSON value; None when missing or null) breaks the rule."""
        if self.kind == "missing":
            return value is None
        if value is None:
            return False
        if self.kind == "finite":
            number = _java_double(value)
            return number is not None and not math.isfinite(number)
        if self.kind == "type":
            if self.limit == "string":
                return not isinstance(value, str)
            if self.limit == "integer":
                integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 9.2e18)
                return isinstance(value, bool) or not integral
            return isinstance(value, bool) or not isinstance(value, (int, float))
        if self.kind == "pattern":
            return not isinstance(value, str) or re.search(self.limit, value) is None
        limit = self.limit
        return {"minimum": value < limit, "exclusive_minimum": value <= limit,
                "maximum": value > limit, "exclusive_maximum": value >= limit}[self.kind]  # fmt: skip


_MAX_DOUBLE = "1.7976931348623157E308"  # Java's Double.MAX_VALUE


def _sql_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _bound_rules(c: Column) -> list[Rule]:
    """A numeric field's bounds as rules, named for what they mean to a reader of the dead letters."""
    low = ("minimum", c.minimum) if c.minimum is not None else ("exclusive_minimum", c.exclusive_minimum)
    high = ("maximum", c.maximum) if c.maximum is not None else ("exclusive_maximum", c.exclusive_maximum)
    if low[1] is not None and high[1] is not None:
        return [Rule(c.name, f"out_of_range:{c.name}", kind, limit) for kind, limit in (low, high)]
    out = []
    if low[1] is not None:
        zero = low[1] == 0
        name = ("negative" if low[0] == "minimum" else "non_positive") if zero else "below_minimum"
        out.append(Rule(c.name, f"{name}:{c.name}", *low))
    if high[1] is not None:
        out.append(Rule(c.name, f"above_maximum:{c.name}", *high))
    return out


def read_json(path: Path, what: str = "el contrato de registro", error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """A JSON file of the project (a schema); a missing or malformed one is one line naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"no se puede leer {what} {path}", exc.strerror or str(exc)) from None
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path.name} está mal formado en la línea {exc.lineno}", exc.msg) from None


def _column(name: str, spec: dict[str, Any], required: set[str], where: str) -> Column:
    types = spec.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    kinds = [t for t in types if t != "null"]
    if len(kinds) != 1 or kinds[0] not in ("number", "integer", "string"):
        raise ConfigError(f"{where}: el campo {name!r} tiene el tipo {types!r}", "usa number, integer o string (opcionalmente con null)")
    bounds = {}
    for key, attr in (("minimum", "minimum"), ("exclusiveMinimum", "exclusive_minimum"),
                      ("maximum", "maximum"), ("exclusiveMaximum", "exclusive_maximum")):  # fmt: skip
        if key in spec:
            if kinds[0] == "string" or isinstance(spec[key], bool) or not isinstance(spec[key], (int, float)):
                raise ConfigError(f"{where}: el campo {name!r} tiene {key} {spec[key]!r}", f"`{key}` es un número y va en un campo number o integer")
            bounds[attr] = spec[key]
    pattern = spec.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            raise ConfigError(f"{where}: el campo {name!r} tiene el pattern {pattern!r}", "usa una expresión regular válida") from None
        if "'" in pattern:
            raise ConfigError(f"{where}: el campo {name!r} tiene una comilla en su pattern", "quítala: el SQL del job de Flink no puede llevarla")
    return Column(
        name=name,
        json_type=kinds[0],
        nullable="null" in types or name not in required,
        timestamp=kinds[0] == "string" and spec.get("format") == "date-time",
        pattern=pattern,
        **bounds,
    )


@lru_cache(maxsize=16)
def load_contract(currency: str = DEFAULT_CURRENCY, path: str | Path | None = None) -> RowContract:
    """The row contract from ``data/schemas/exploded_row.json`` (or ``path``), for ``currency``."""
    where = Path(path) if path else EXPLODED_SCHEMA
    schema = for_currency(read_json(where), currency)
    props = schema.get("properties")
    if not isinstance(props, dict) or KEY not in props:
        raise ConfigError(f"{where.name} no define la propiedad {KEY!r}", "añádela: la fila explotada usa `coin_id` como clave")
    required = set(schema.get("required", []))
    columns = tuple(_column(name, spec, required, where.name) for name, spec in props.items())
    return RowContract(currency=currency, columns=columns, schema=schema)


def contract_for(settings: Settings) -> RowContract:
    """The row contract of the configured currency."""
    return load_contract(settings.vs_currency)


def raw_poll_schema(currency: str = DEFAULT_CURRENCY) -> dict[str, Any]:
    """The JSON schema of one ``/simple/price`` poll, fields named for ``currency``."""
    return for_currency(read_json(RAW_SCHEMA), currency)
