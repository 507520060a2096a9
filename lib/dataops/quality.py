"""Data-quality checks of the crypto pipeline (course block 2, "Data Quality").

Checks are data (``data/quality/suite.yaml``); this module only evaluates them.
Vocabulary borrowed from pandera and Soda: a :class:`Check` has a name, a type,
parameters and a readable failure message; :func:`run_suite` runs EVERY check
(it never stops at the first failure) and collects the results in one table.

Two datasets are checked:

* ``raw_poll``: the JSON bodies of ``/api/v3/simple/price`` polls (Kafka record
  values of ``crypto-prices``), as strings, bytes, parsed dicts or ``Record``s.
* ``exploded_row``: one row per coin per poll (the Iceberg table), a DataFrame.

Example::

    suite = load_suite()
    report = run_suite(suite, polls=kafka.read("crypto-prices"))
    report.score, report.failures()
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dataops.config import PROJECT_ROOT
from dataops.errors import ConfigError, DataOpsError

__all__ = [
    "CHECK_TYPES",
    "DATASETS",
    "EXPLODED_COLUMNS",
    "Check",
    "CheckResult",
    "QualityReport",
    "SchemaError",
    "Suite",
    "SuiteError",
    "TimedPoll",
    "explode_polls",
    "frozen_runs",
    "load_suite",
    "parse_poll",
    "run_on_table",
    "run_on_topic",
    "run_suite",
    "runs_for_check",
    "validate",
]

SUITE_PATH = PROJECT_ROOT / "data" / "quality" / "suite.yaml"
CHECK_TYPES: tuple[str, ...] = ("schema", "freshness", "value_ranges", "completeness", "duplicate", "frozen_prices")
DATASETS: tuple[str, ...] = ("raw_poll", "exploded_row")
EXPLODED_COLUMNS: tuple[str, ...] = (
    "coin_id",
    "usd",
    "usd_market_cap",
    "usd_24h_vol",
    "usd_24h_change",
    "last_updated_at",
    "event_time",
    "processed_at",
)
NUMERIC_FIELDS: tuple[str, ...] = ("usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change", "last_updated_at")
RESULT_COLUMNS: list[str] = ["check", "dataset", "type", "status", "passed", "failing_rows", "sample", "message"]
# A check's verdict: it passed, it failed, or its dataset holds too little to judge (a fresh stack).
STATUSES: tuple[str, ...] = ("passed", "failed", "no_data")
NO_DATA = "sin datos suficientes todavía"
SAMPLE_SIZE = 3


class SuiteError(ConfigError):
    """A quality suite (YAML) or one of its schemas is malformed."""


class SchemaError(DataOpsError):
    """A JSON schema uses a keyword the small validator does not implement."""


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One data-quality check.

    Attributes:
        name: Unique name (``raw_schema``).
        type: One of :data:`CHECK_TYPES`.
        dataset: ``raw_poll`` or ``exploded_row``.
        params: Type-specific parameters (``max_age_s``, ``min_pct``...).
        message: Readable failure message (Spanish, user facing).
    """

    name: str
    type: str
    dataset: str
    params: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class Suite:
    """A set of checks plus the reference data they need.

    Attributes:
        checks: The checks, in file order.
        expected_coins: Coins every poll must contain.
        price_ranges: ``coin -> (min, max)`` USD price range.
        schemas: ``path -> parsed JSON schema`` for the ``schema`` checks.
    """

    checks: tuple[Check, ...]
    expected_coins: tuple[str, ...] = ()
    price_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``failing_rows`` counts records/rows (or polls) that fail.

    ``status`` is ``passed``, ``failed`` or ``no_data`` (too few records to judge: then
    ``passed`` is False too, and the check counts neither for nor against the score).
    """

    check: str
    dataset: str
    type: str
    status: str
    passed: bool
    failing_rows: int
    sample: str
    message: str


@dataclass(frozen=True)
class QualityReport:
    """All the results of a suite run.

    Attributes:
        results: One row per check: ``check, dataset, type, passed, failing_rows, sample, message``.
    """

    results: pd.DataFrame

    def _judged(self) -> pd.DataFrame:
        return self.results[self.results["status"] != "no_data"] if len(self.results) else self.results

    @property
    def score(self) -> float:
        """% of the judged checks that passed, each weighted equally; NaN when no check had
        enough data (a verdict on nothing is neither a pass nor a fail).

        The course's HIGH alert fires when this is below 80 ("Calidad de datos < 80%").
        """
        judged = self._judged()
        return float(100.0 * judged["passed"].astype(bool).mean()) if len(judged) else math.nan

    @property
    def enough_data(self) -> bool:
        """True when every check had enough data to judge."""
        return bool(len(self.results)) and not (self.results["status"] == "no_data").any()

    @property
    def passed(self) -> bool:
        """True when at least one check was judged and every judged check passed."""
        judged = self._judged()
        return bool(len(judged)) and bool(judged["passed"].all())

    def failures(self) -> pd.DataFrame:
        """Only the failed checks."""
        return self.results[self.results["status"] == "failed"].reset_index(drop=True)

    def __repr__(self) -> str:
        score = "n/a (sin datos)" if math.isnan(self.score) else f"{self.score:.1f}%"
        return f"QualityReport(score={score}, checks={len(self.results)}, failed={len(self.failures())})"


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_suite(path: str | Path | None = None) -> Suite:
    """Read a suite YAML (default ``data/quality/suite.yaml``).

    Raises:
        SuiteError: Missing file, malformed YAML, unknown check type or dataset, bad schema file.
    """
    path = Path(path) if path else SUITE_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"cannot read quality suite {path}", exc.strerror or str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SuiteError(f"malformed YAML in {path.name}{where}", str(problem)) from None
    if not isinstance(doc, dict):
        raise SuiteError(f"quality suite {path.name} must be a mapping", "expected keys raw_poll / exploded_row")
    unknown = set(doc) - {*DATASETS, "expected_coins", "price_ranges"}
    if unknown:
        raise SuiteError(f"unknown key(s) in {path.name}: {', '.join(sorted(map(str, unknown)))}", f"use {', '.join(DATASETS)}")
    checks: list[Check] = []
    for dataset in DATASETS:
        entries = doc.get(dataset) or []
        if not isinstance(entries, list):
            raise SuiteError(f"{path.name}: {dataset} must be a list of checks")
        checks.extend(_parse_check(entry, dataset, path.name) for entry in entries)
    names = [c.name for c in checks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SuiteError(f"{path.name}: duplicate check name(s) {', '.join(dupes)}")
    ranges = _load_ranges(doc.get("price_ranges", "price_ranges.yaml"), path)
    schemas: dict[str, Mapping[str, Any]] = {}
    for check in checks:
        if check.type == "schema":
            ref = str(check.params.get("schema", ""))
            if not ref:
                raise SuiteError(f"{path.name}: check {check.name} needs params.schema (a JSON schema path)")
            schemas[ref] = _load_json(path.parent / ref)
    coins = doc.get("expected_coins") or []
    if not isinstance(coins, list):
        raise SuiteError(f"{path.name}: expected_coins must be a list of coin ids")
    return Suite(tuple(checks), tuple(str(c) for c in coins), ranges, schemas)


def _parse_check(entry: Any, dataset: str, where: str) -> Check:
    if not isinstance(entry, dict) or "name" not in entry or "type" not in entry:
        raise SuiteError(f"{where}: every {dataset} check needs a name and a type", f"got {entry!r}")
    kind = str(entry["type"])
    if kind not in CHECK_TYPES:
        raise SuiteError(f"{where}: unknown check type {kind!r} in {entry['name']}", f"use one of {', '.join(CHECK_TYPES)}")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise SuiteError(f"{where}: params of {entry['name']} must be a mapping")
    extra = set(entry) - {"name", "type", "params", "message"}
    if extra:
        raise SuiteError(f"{where}: unknown key(s) {', '.join(sorted(extra))} in check {entry['name']}")
    return Check(str(entry["name"]), kind, dataset, dict(params), str(entry.get("message") or entry["name"]))


def _load_ranges(ref: Any, suite_path: Path) -> dict[str, tuple[float, float]]:
    if isinstance(ref, dict):
        raw = ref
    else:
        target = suite_path.parent / str(ref)
        try:
            raw = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SuiteError(f"cannot read price ranges {target.name}", type(exc).__name__) from None
    try:
        return {str(c): (float(r["min"]), float(r["max"])) for c, r in raw.items()}
    except (TypeError, KeyError, ValueError, AttributeError):
        raise SuiteError("price ranges must map coin -> {min, max}") from None


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"cannot read JSON schema {path}", exc.strerror or str(exc)) from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"malformed JSON schema {path.name} line {exc.lineno}", exc.msg) from None


# ---------------------------------------------------------------------------
# A small JSON-schema validator (the subset the contracts use)
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def parse_poll(poll: Any) -> tuple[Any, str | None]:
    """Parse one poll (str, bytes, dict or Kafka ``Record``): ``(value, error)``; error is None when it parses."""
    if hasattr(poll, "value") and not isinstance(poll, (str, bytes, dict)):
        poll = poll.value
    if isinstance(poll, dict):
        return poll, None
    if poll is None:
        return None, "empty record (null value)"
    if isinstance(poll, bytes):
        poll = poll.decode("utf-8", "replace")
    if not isinstance(poll, str):
        return None, f"unsupported poll type {type(poll).__name__}"
    try:
        return json.loads(poll), None
    except json.JSONDecodeError as exc:
        return None, f"unparseable JSON ({exc.msg} at char {exc.pos}): {_short(poll)}"


def explode_polls(polls: Iterable[Any]) -> pd.DataFrame:
    """Polls as exploded rows (one per coin per poll) plus ``poll`` (poll index) and
    ``poll_time`` (the Kafka timestamp of a ``Record``, else NaT).

    Unparseable polls and non-object coin entries are skipped (the ``schema`` check reports
    them); a field that is missing or not a number becomes null, so ``completeness`` sees
    renamed and retyped fields. ``event_time`` is derived from ``last_updated_at``.
    """
    rows: list[dict[str, Any]] = []
    for index, poll in enumerate(polls):
        value, error = parse_poll(poll)
        if error or not isinstance(value, dict):
            continue
        stamp_ms = getattr(poll, "timestamp_ms", None)
        stamp = pd.Timestamp(stamp_ms, unit="ms", tz="UTC") if isinstance(stamp_ms, (int, float)) else pd.NaT
        for coin, entry in value.items():
            if not isinstance(entry, dict):
                continue
            row: dict[str, Any] = {"poll": index, "poll_time": stamp, "coin_id": str(coin)}
            for name in NUMERIC_FIELDS:
                item = entry.get(name)
                ok = _TYPES["integer" if name == "last_updated_at" else "number"](item)
                row[name] = item if ok else None
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["poll", "poll_time", "coin_id", *NUMERIC_FIELDS])
    frame["poll_time"] = pd.to_datetime(frame["poll_time"], utc=True)
    for name in NUMERIC_FIELDS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["last_updated_at"] = frame["last_updated_at"].astype("Int64")
    frame["event_time"] = pd.to_datetime(frame["last_updated_at"].astype("float64"), unit="s", utc=True)
    frame["processed_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return frame


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def run_suite(
    suite: Suite,
    polls: Sequence[Any] | None = None,
    rows: pd.DataFrame | None = None,
    now: datetime | pd.Timestamp | float | None = None,
) -> QualityReport:
    """Run every check of ``suite`` on the datasets given (checks of a missing dataset are skipped).

    Args:
        suite: From :func:`load_suite`.
        polls: Raw polls (JSON strings/bytes, dicts or Kafka ``Record``s) for ``raw_poll`` checks.
        rows: Exploded rows for ``exploded_row`` checks.
        now: Reference time of ``freshness`` (default: now, UTC); a number is unix seconds.

    Returns:
        A :class:`QualityReport`; its ``score`` is the % of checks passed, weighted equally.
    """
    ref = _timestamp(now)
    data: dict[str, tuple[list[Any] | None, pd.DataFrame]] = {}
    if polls is not None:
        polls = list(polls)
        data["raw_poll"] = (polls, explode_polls(polls))
    if rows is not None:
        data["exploded_row"] = (None, _normalise_rows(rows))
    results: list[CheckResult] = []
    for check in suite.checks:
        if check.dataset not in data:
            continue
        raw, frame = data[check.dataset]
        lacking = _lacking_data(check, raw, frame)
        if lacking:
            results.append(CheckResult(check.name, check.dataset, check.type, "no_data", False, 0, "", f"{NO_DATA}: {lacking}"))
            continue
        try:
            results.append(_RUNNERS[check.type](check, suite, raw, frame, ref))
        except (KeyError, TypeError, ValueError) as exc:  # a bad parameter fails its check, not the suite
            results.append(_result(check, False, 0, [], f"check could not run: {type(exc).__name__}: {exc}"))
    frame = pd.DataFrame([r.__dict__ for r in results], columns=RESULT_COLUMNS)
    frame["passed"] = frame["passed"].astype(bool)
    frame["failing_rows"] = frame["failing_rows"].astype("int64")
    return QualityReport(frame)


def _lacking_data(check: Check, raw: list[Any] | None, frame: pd.DataFrame) -> str:
    """Why a check's dataset is too small to judge ("" when it is enough): no record at all,
    or fewer polls than a ``frozen_prices`` run needs."""
    records = len(raw) if raw is not None else len(frame)
    if not records:
        return "0 registros"
    if check.type == "frozen_prices":
        need = int(check.params.get("min_polls", 5))
        polls = int(frame.groupby("coin_id").size().max()) if len(frame) and "coin_id" in frame else 0
        if polls < need:
            return f"{polls} polls por moneda (la comprobación necesita {need})"
    return ""


def run_on_topic(kafka_layer: Any, topic: str, suite: Suite, n: int = 500, now: Any = None) -> QualityReport:
    """Check the ``n`` newest records of a raw topic (through ``KafkaLayer.latest``), oldest first,
    with their Kafka timestamps as ``poll_time``."""
    frame = kafka_layer.latest(topic, n=n)
    polls = [] if not len(frame) else [
        TimedPoll(value, int(ts.value // 1_000_000)) for value, ts in zip(frame["value"][::-1], frame["timestamp"][::-1])
    ]  # fmt: skip
    return run_suite(suite, polls=polls, now=now)


@dataclass(frozen=True)
class TimedPoll:
    """A raw poll with its Kafka timestamp (what :func:`explode_polls` reads from a ``Record``)."""

    value: Any
    timestamp_ms: int


def run_on_table(iceberg_layer: Any, suite: Suite, minutes: float = 60, now: Any = None) -> QualityReport:
    """Check the exploded rows of the last ``minutes`` of the Iceberg table (through ``IcebergLayer.read``)."""
    ref = _timestamp(now)
    rows = _normalise_rows(iceberg_layer.read())
    if len(rows) and "event_time" in rows:
        rows = rows[rows["event_time"] >= ref - pd.Timedelta(minutes=minutes)].reset_index(drop=True)
    return run_suite(suite, rows=rows, now=ref)


def _timestamp(value: Any) -> pd.Timestamp:
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    if isinstance(value, (int, float)):
        return pd.Timestamp(value, unit="s", tz="UTC")
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _normalise_rows(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for name in ("event_time", "processed_at"):
        if name in out and not isinstance(out[name].dtype, pd.DatetimeTZDtype):
            try:
                out[name] = pd.to_datetime(out[name], utc=True)
            except (TypeError, ValueError):
                pass  # left as is: the schema check reports it
    return out


def _result(check: Check, passed: bool, failing: int, samples: list[str], detail: str = "") -> CheckResult:
    message = "" if passed else (f"{check.message} ({detail})" if detail else check.message)
    status = "passed" if passed else "failed"
    return CheckResult(check.name, check.dataset, check.type, status, passed, int(failing), " | ".join(samples[:SAMPLE_SIZE]), message)


def _rows_text(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    cols = [c for c in columns if c in frame]
    return [", ".join(f"{c}={row[c]}" for c in cols) for _, row in frame.head(SAMPLE_SIZE).iterrows()]


def _check_schema(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    schema = suite.schemas.get(str(check.params.get("schema")))
    if schema is None:
        raise KeyError(f"schema {check.params.get('schema')!r} not loaded")
    if raw is not None:
        records: list[tuple[str, Any, str | None]] = []
        for i, poll in enumerate(raw):
            value, error = parse_poll(poll)
            records.append((f"poll {i}", value, error))
    else:
        records = [(f"row {i}", _json_row(row), None) for i, row in enumerate(frame.to_dict("records"))]
    failing, samples = 0, []
    for where, value, error in records:
        errors = [error] if error else validate(value, schema)
        if errors:
            failing += 1
            samples.append(f"{where}: {errors[0]}" + (f" (+{len(errors) - 1})" if len(errors) > 1 else ""))
    return _result(check, failing == 0, failing, samples, f"{failing}/{len(records)} registros inválidos")


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("poll", "poll_time"):
            continue
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp | datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "item"):  # numpy scalar
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _check_freshness(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    name = str(check.params.get("field", "event_time"))
    max_age = float(check.params["max_age_s"])
    if name not in frame or frame[name].isna().all():
        return _result(check, False, len(frame), [], f"sin valores de {name}")
    col = frame[name]
    times = col if isinstance(col.dtype, pd.DatetimeTZDtype) else pd.to_datetime(col.astype("float64"), unit="s", utc=True)
    newest = times.max()
    age = (now - newest).total_seconds()
    if age <= max_age:
        return _result(check, True, 0, [])
    return _result(check, False, len(frame), [f"newest {name}={newest.isoformat()}"], f"antigüedad {age:.0f} s > {max_age:.0f} s")


def _check_value_ranges(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    name = str(check.params.get("field", "usd"))
    ranges = {**suite.price_ranges, **{c: (float(r["min"]), float(r["max"])) for c, r in check.params.get("ranges", {}).items()}}
    if name not in frame or not len(frame):
        return _result(check, True, 0, [])
    present = frame[frame[name].notna()]
    low = present["coin_id"].map(lambda c: ranges.get(c, (math.nan, math.nan))[0]).astype("float64")
    high = present["coin_id"].map(lambda c: ranges.get(c, (math.nan, math.nan))[1]).astype("float64")
    values = present[name].astype("float64")
    bad = present[~((values >= low) & (values <= high))]  # unknown coins (no range) fail too
    samples = [
        f"{row.coin_id}={row[name]} fuera de {ranges.get(row.coin_id, 'sin rango')}" for _, row in bad.head(SAMPLE_SIZE).iterrows()
    ]
    return _result(check, bad.empty, len(bad), samples, f"{len(bad)}/{len(present)} precios fuera de rango")


def _check_completeness(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    fields = list(check.params.get("fields", EXPLODED_COLUMNS))
    min_pct = float(check.params.get("min_pct", 100))
    present = pd.DataFrame({f: frame[f].notna() if f in frame else False for f in fields}, index=frame.index)
    pct = 100.0 * float(present.to_numpy().mean()) if present.size else 100.0
    incomplete = frame[~present.all(axis=1)] if len(fields) else frame.iloc[0:0]
    samples = [
        f"{row.get('coin_id')}: falta {', '.join(f for f in fields if not present.loc[i, f])}"
        for i, row in incomplete.head(SAMPLE_SIZE).iterrows()
    ]
    details = [f"{pct:.1f}% de campos presentes (mínimo {min_pct:g}%)"]
    ok = pct >= min_pct
    failing = len(incomplete) if not ok else 0
    expected = check.params.get("expected_coins", False)
    coins = list(suite.expected_coins) if expected is True else list(expected or [])
    if coins:
        group = _poll_key(check, frame)
        missing: list[str] = []
        if group in frame:
            for key, part in frame.groupby(group, sort=True):
                lost = sorted(set(coins) - set(part["coin_id"]))
                if lost:
                    missing.append(f"{group} {key}: falta {', '.join(lost)}")
        if missing:
            ok = False
            failing += len(missing)
            samples = missing + samples
            details.append(f"{len(missing)} poll(s) sin todas las monedas")
    return _result(check, ok, failing, samples, "; ".join(details))


def _poll_key(check: Check, frame: pd.DataFrame) -> str:
    """Column that identifies a poll: params.poll_key, else ``poll`` (raw polls), else ``event_time``."""
    return str(check.params.get("poll_key") or ("poll" if "poll" in frame else "event_time"))


def _check_duplicate(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    key = list(check.params.get("key", ["coin_id", "last_updated_at"]))
    absent = [k for k in key if k not in frame]
    if absent:
        return _result(check, False, len(frame), [], f"faltan columnas clave {', '.join(absent)}")
    dup = frame[frame.duplicated(subset=key, keep="first")]
    return _result(check, dup.empty, len(dup), _rows_text(dup, key), f"{len(dup)} filas duplicadas por {'+'.join(key)}")


FROZEN_COLUMNS: list[str] = ["coin_id", "price", "polls", "first", "last", "span_s", "reason", "ongoing"]


def frozen_runs(
    frame: pd.DataFrame,
    min_polls: int = 5,
    price_field: str = "usd",
    max_static_s: float | None = None,
    timestamp_advances: bool = False,
    order_by: str | None = None,
    time_field: str | None = None,
) -> pd.DataFrame:
    """Runs of a coin's price that stay identical for >= ``min_polls`` polls while something moves.

    Each coin's rows are taken in poll order (``order_by``; default ``poll`` for raw polls,
    else ``processed_at``, else ``event_time``). A run of identical prices is *frozen* when,
    during the run, another coin's price changes (``market_moves``); or its own
    ``last_updated_at`` advances and ``timestamp_advances`` is on; or the run lasts
    ``max_static_s`` of wall-clock time (``time_passes``: the whole market stood still,
    which a live market never does; the clock is ``time_field``, default ``poll_time``
    for raw polls read from Kafka, else ``processed_at``).

    Returns:
        One row per frozen run: ``coin_id, price, polls, first, last`` (order values),
        ``span_s`` (wall-clock, NaN without a clock), ``reason``, ``ongoing`` (the run
        reaches the coin's newest row: still frozen now).
    """
    empty = pd.DataFrame(columns=FROZEN_COLUMNS)
    order = order_by or next((c for c in ("poll", "processed_at", "event_time") if c in frame and frame[c].notna().any()), None)
    if not len(frame) or order is None or price_field not in frame or "coin_id" not in frame:
        return empty
    clock = time_field or next((c for c in ("poll_time", "processed_at") if c in frame and frame[c].notna().any()), None)
    data = frame.dropna(subset=[order, price_field]).sort_values([order], kind="stable")
    key = data[order]
    pos = (key.astype("int64") / 1e9 if isinstance(key.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(key)
           else pd.to_numeric(key, errors="coerce")).astype("float64")  # fmt: skip
    data = data.assign(_pos=pos.to_numpy())
    # Rows of one poll are written a few ms apart: a change counts for another coin's run only
    # when it is at least half a poll interval after the run's first poll.
    gaps = data.groupby("coin_id")["_pos"].diff().dropna()
    half_gap = 0.5 * float(gaps.median()) if len(gaps) else 0.0
    changes: dict[str, np.ndarray] = {}  # coin -> positions where its price changed vs its previous row
    for coin, rows in data.groupby("coin_id", sort=False):
        values = rows[price_field]
        changes[str(coin)] = rows.loc[values.ne(values.shift()) & values.shift().notna(), "_pos"].to_numpy()
    runs: list[dict[str, Any]] = []
    for coin, rows in data.groupby("coin_id", sort=True):
        values = rows[price_field].to_numpy()
        keys = rows[order].to_numpy()
        positions = rows["_pos"].to_numpy()
        times = pd.to_datetime(rows[clock], utc=True, errors="coerce").to_numpy() if clock else None
        stamps = rows["last_updated_at"].to_numpy() if timestamp_advances and "last_updated_at" in rows else None
        start = 0
        for i in range(1, len(values) + 1):
            if i < len(values) and values[i] == values[start]:
                continue
            length = i - start
            if length >= min_polls:
                first, last = keys[start], keys[i - 1]
                span = float((times[i - 1] - times[start]) / np.timedelta64(1, "s")) if times is not None else math.nan
                lo, hi = positions[start] + half_gap, positions[i - 1] + half_gap
                moved = any(((c > lo) & (c <= hi)).any() for other, c in changes.items() if other != str(coin))
                reason = ""
                if moved:
                    reason = "market_moves"
                elif stamps is not None and len(set(pd.Series(stamps[start:i]).dropna())) > 1:
                    reason = "timestamp_advances"
                elif max_static_s is not None and not math.isnan(span) and span >= max_static_s:
                    reason = "time_passes"
                if reason:
                    runs.append(
                        {"coin_id": str(coin), "price": values[start], "polls": length, "first": first, "last": last,
                         "span_s": span, "reason": reason, "ongoing": i == len(values)}
                    )  # fmt: skip
            start = i
    return pd.DataFrame(runs, columns=FROZEN_COLUMNS)


def runs_for_check(check: Check, rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`frozen_runs` with the parameters of a ``frozen_prices`` check (rows normalised first)."""
    params = check.params
    return frozen_runs(
        _normalise_rows(rows),
        min_polls=int(params.get("min_polls", 5)),
        price_field=str(params.get("field", "usd")),
        max_static_s=float(params["max_static_s"]) if params.get("max_static_s") is not None else None,
        timestamp_advances=bool(params.get("timestamp_advances", False)),
        order_by=params.get("order_by"),
        time_field=params.get("time_field"),
    )


def _check_frozen(check: Check, suite: Suite, raw: list[Any] | None, frame: pd.DataFrame, now: pd.Timestamp) -> CheckResult:
    """A coin's price is identical for >= ``min_polls`` polls while the market moves (see :func:`frozen_runs`)."""
    runs = runs_for_check(check, frame)
    flagged = [
        f"{r.coin_id}={r.price} igual en {r.polls} polls" + (f" ({r.span_s:.0f} s)" if not math.isnan(r.span_s) else "")
        for r in runs.itertuples()
    ]
    return _result(check, runs.empty, int(runs["polls"].sum()) if len(runs) else 0, flagged, f"{len(flagged)} racha(s) de precio congelado")


_RUNNERS: dict[str, Callable[[Check, Suite, list[Any] | None, pd.DataFrame, pd.Timestamp], CheckResult]] = {
    "schema": _check_schema,
    "freshness": _check_freshness,
    "value_ranges": _check_value_ranges,
    "completeness": _check_completeness,
    "duplicate": _check_duplicate,
    "frozen_prices": _check_frozen,
}
