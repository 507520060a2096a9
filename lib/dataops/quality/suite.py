"""The quality model: checks, suites, results, reports, and the suite YAML loader.

Checks are data (``data/quality/suite.yaml``); :func:`load_suite` reads them into a
:class:`Suite`. Two datasets are checked:

* ``raw_poll``: the JSON bodies of ``/api/v3/simple/price`` polls (Kafka record
  values of ``crypto-prices``), as strings, bytes, parsed dicts or ``Record``s.
* ``exploded_row``: one row per coin per poll (the Iceberg table), a DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dataops.config import DATA_DIR, Settings, load_settings
from dataops.contract import DEFAULT_CURRENCY, RowContract, contract_for, currency_name, for_currency, load_contract, read_json
from dataops.errors import SuiteError
from dataops.userfiles import read_text
from dataops.quality.custom_model import CustomTest, as_custom_test

SUITE_PATH = DATA_DIR / "quality" / "suite.yaml"
CHECK_TYPES: tuple[str, ...] = ("schema", "freshness", "value_ranges", "completeness", "duplicate", "frozen_prices")
DATASETS: tuple[str, ...] = ("raw_poll", "exploded_row")
RESULT_COLUMNS: list[str] = ["check", "dataset", "type", "status", "passed", "failing_rows", "sample", "message"]
# A check's verdict: it passed, it failed, or its dataset holds too little to judge (a fresh stack).
STATUSES: tuple[str, ...] = ("passed", "failed", "no_data")
NO_DATA = "sin datos suficientes todavía"
SAMPLE_SIZE = 3


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
        expected_coins: Coins every poll must contain (the ``coins`` setting).
        price_ranges: ``coin -> (min, max)`` price range.
        schemas: ``path -> parsed JSON schema`` for the ``schema`` checks (fields named for the currency).
        contract: The exploded row's contract (columns, price field) of the configured currency.
    """

    checks: tuple[Check, ...]
    expected_coins: tuple[str, ...] = ()
    price_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    contract: RowContract = field(default_factory=load_contract)
    custom: tuple[CustomTest, ...] = ()

    def with_tests(self, *tests: CustomTest | Callable[[pd.DataFrame], Any]) -> Suite:
        """This suite plus tests of your own (functions of the rows, see :mod:`dataops.quality.custom`);
        a test with the name of one already in the suite replaces it."""
        added = [as_custom_test(t) for t in tests]
        names = {t.name for t in added}
        kept = tuple(t for t in self.custom if t.name not in names)
        return replace(self, custom=kept + tuple(added))


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
    layer: str = ""
    at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))

    def summary(self) -> dict[str, Any]:
        """The course's summary: total, passed, failed, no data, success rate and its band."""
        from dataops.quality.report import summary

        return summary(self)

    def to_json(self, path: str | Path | None = None) -> Path:
        """Write the JSON report (``build/reports/quality-<layer>-<UTC time>.json`` by default)."""
        from dataops.quality.report import write_json

        return write_json(self, path)

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


def files_stamp() -> tuple[float, ...]:
    """When the default suite's files (``data/quality``, ``data/schemas``) last changed: the
    monitor reloads the suite when this moves (a learner's edit, or ``reset`` restoring it)."""
    stamps = []
    for path in sorted(SUITE_PATH.parent.glob("*.yaml")) + sorted((DATA_DIR / "schemas").glob("*.json")):
        try:
            stamps.append(path.stat().st_mtime)
        except OSError:
            stamps.append(-1.0)
    return tuple(stamps)


def load_suite(path: str | Path | None = None, settings: Settings | None = None) -> Suite:
    """Read a suite YAML (default ``data/quality/suite.yaml``).

    The expected coins and the currency come from the settings (``DATAOPS_COINS``,
    ``DATAOPS_VS_CURRENCY``): field names written ``usd…`` in the suite and its schemas
    are renamed for the configured currency, as the record contract does.

    Raises:
        SuiteError: Missing file, malformed YAML, unknown check type or dataset, bad schema file.
    """
    path = Path(path) if path else SUITE_PATH
    settings = settings or load_settings()
    contract = contract_for(settings)
    text = read_text(path, "la suite de calidad", SuiteError, empty_hint="escribe sus checks bajo `raw_poll:` y `exploded_row:` (mira data/quality/suite.yaml)")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" línea {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SuiteError(f"YAML mal formado en {path.name}{where}: {problem}", "corrige la sangría o las comillas de esa línea") from None
    if not isinstance(doc, dict):
        raise SuiteError(f"la suite de calidad {path.name} debe ser un mapping", "con las claves `raw_poll` / `exploded_row`")
    if "expected_coins" in doc:
        raise SuiteError(f"{path.name}: `expected_coins` es un ajuste, no parte de la suite", "quítalo y usa DATAOPS_COINS")
    unknown = set(doc) - {*DATASETS, "price_ranges"}
    if unknown:
        raise SuiteError(f"claves desconocidas en {path.name}: {', '.join(sorted(map(str, unknown)))}", f"usa {', '.join(DATASETS)}")
    checks: list[Check] = []
    for dataset in DATASETS:
        entries = doc.get(dataset) or []
        if not isinstance(entries, list):
            raise SuiteError(f"{path.name}: {dataset} debe ser una lista de checks", "escribe cada check como `- name: ...`")
        checks.extend(_for_contract(_parse_check(entry, dataset, path.name), contract) for entry in entries)
    names = [c.name for c in checks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SuiteError(f"{path.name}: nombres de check repetidos: {', '.join(dupes)}", "da a cada check un nombre único")
    ranges = _load_ranges(doc.get("price_ranges", "price_ranges.yaml"), path)
    schemas: dict[str, Mapping[str, Any]] = {}
    for check in checks:
        if check.type == "schema":
            ref = str(check.params.get("schema", ""))
            if not ref:
                raise SuiteError(f"{path.name}: el check {check.name} necesita `params.schema`", "pon la ruta de un esquema JSON")
            schemas[ref] = for_currency(_load_json(path.parent / ref), contract.currency)
    return Suite(tuple(checks), tuple(settings.coins), ranges, schemas, contract)


# Check parameters that name fields of the row, renamed for the configured currency.
_FIELD_PARAMS = ("field", "fields", "key")


def _for_contract(check: Check, contract: RowContract) -> Check:
    """The check with its field names in the contract's currency, and the price field explicit."""
    params = dict(check.params)
    if check.type in ("value_ranges", "frozen_prices"):
        params.setdefault("field", DEFAULT_CURRENCY)
    for name in _FIELD_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            params[name] = currency_name(value, contract.currency)
        elif isinstance(value, list):
            params[name] = [currency_name(str(v), contract.currency) for v in value]
    return Check(check.name, check.type, check.dataset, params, check.message)


# Numeric check parameters: seconds, counts and percentages, each a finite number > 0.
_POSITIVE_PARAMS = {"max_age_s", "max_static_s", "min_polls", "min_pct"}


def _parse_check(entry: Any, dataset: str, where: str) -> Check:
    if not isinstance(entry, dict) or "name" not in entry or "type" not in entry:
        raise SuiteError(f"{where}: cada check de {dataset} necesita `name` y `type`", f"recibido: {entry!r}")
    kind = str(entry["type"])
    if kind not in CHECK_TYPES:
        raise SuiteError(f"{where}: tipo de check desconocido {kind!r} en {entry['name']}", f"elige entre {', '.join(CHECK_TYPES)}")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise SuiteError(f"{where}: `params` de {entry['name']} debe ser un mapping", "escribe `params: {clave: valor, ...}`")
    extra = set(entry) - {"name", "type", "params", "message"}
    if extra:
        raise SuiteError(f"{where}: claves desconocidas {', '.join(sorted(extra))} en el check {entry['name']}", "usa `name`, `type`, `params` y `message`")
    for key in sorted(k for k in _POSITIVE_PARAMS & set(params) if params[k] is not None):
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise SuiteError(f"{where}: check {entry['name']}: params.{key} es {value!r}", "da un número mayor que 0")
    return Check(str(entry["name"]), kind, dataset, dict(params), str(entry.get("message") or entry["name"]))


def _load_ranges(ref: Any, suite_path: Path) -> dict[str, tuple[float, float]]:
    if isinstance(ref, dict):
        raw = ref
    else:
        target = suite_path.parent / str(ref)
        try:
            raw = yaml.safe_load(read_text(target, "los rangos de precio", SuiteError)) or {}
        except yaml.YAMLError as exc:
            raise SuiteError(f"YAML mal formado en los rangos de precio {target} ({type(exc).__name__})", "corrige la sangría o las comillas del fichero") from None
    try:
        return {str(c): (float(r["min"]), float(r["max"])) for c, r in raw.items()}
    except (TypeError, KeyError, ValueError, AttributeError):
        raise SuiteError("los rangos de precio deben asociar moneda -> {min, max}", "escribe p. ej. `bitcoin: {min: 1000, max: 200000}`") from None


def _load_json(path: Path) -> dict[str, Any]:
    return read_json(path, "el esquema JSON", SuiteError)
