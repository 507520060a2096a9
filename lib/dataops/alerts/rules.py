"""Alert rules and severity levels: data read from YAML and checked, no evaluation.

The course's levels and rules live in ``data/alerts/levels.yaml`` and
``data/alerts/rules.yaml``; :func:`load_levels` and :func:`load_rules` read them
and raise :class:`~dataops.errors.AlertConfigError` with one line naming the file
and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from dataops.config import DATA_DIR
from dataops.errors import AlertConfigError

ALERTS_DIR = DATA_DIR / "alerts"
LEVELS_FILE = ALERTS_DIR / "levels.yaml"
RULES_FILE = ALERTS_DIR / "rules.yaml"

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
CONDITIONS = ("threshold", "range", "rate", "rate_of_change")
OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
AGGS = ("mean", "sum", "max", "min")
CHANGES = ("relative", "absolute")
DIRECTIONS = ("both", "up", "down")


@dataclass(frozen=True)
class Level:
    """A severity level of the course (block 2, "Niveles de Severidad").

    Attributes:
        name: CRITICAL, HIGH, MEDIUM or LOW.
        condition: What the level means, e.g. "Pipeline completamente caído".
        response_time: Target response, as text ("< 5 minutos").
        response_time_s: The same target in seconds.
        escalation: How people are reached ("Llamada + SMS").
        channels: Notifier channels the alerts of this level are routed to.
    """

    name: str
    condition: str
    response_time: str
    response_time_s: float
    escalation: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One alert rule over one metric (or several, each evaluated as its own series).

    Attributes:
        name: Unique id of the rule.
        metric: Metric name, or a tuple of names.
        condition: ``threshold``, ``range``, ``rate`` or ``rate_of_change``.
        op: Comparison for threshold/rate (``>``, ``>=``, ``<``, ``<=``).
        value: Threshold (threshold, rate) or the change limit (rate_of_change, % when relative).
        min: Lower bound of ``range`` (fires below).
        max: Upper bound of ``range`` (fires above).
        window_s: Window of ``rate`` and ``rate_of_change``.
        agg: Aggregate of ``rate`` over the window: mean, sum, max or min.
        change: ``relative`` (%) or ``absolute`` for ``rate_of_change``.
        direction: ``both``, ``up`` or ``down`` for ``rate_of_change``.
        for_s: The condition must hold continuously this long before firing.
        severity: A level name.
        labels: Only series whose labels match these.
        description: Text for the alert card (Spanish in the course files).
    """

    name: str
    metric: str | tuple[str, ...]
    condition: str = "threshold"
    op: str = ">"
    value: float | None = None
    min: float | None = None
    max: float | None = None
    window_s: float = 0.0
    agg: str = "mean"
    change: str = "relative"
    direction: str = "both"
    for_s: float = 0.0
    severity: str = "LOW"
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        where = f"la regla {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise AlertConfigError("una regla no tiene nombre", "da a cada regla un `name` único")
        metrics = (self.metric,) if isinstance(self.metric, str) else tuple(self.metric or ())
        if not metrics or not all(isinstance(m, str) and m for m in metrics):
            raise AlertConfigError(f"{where} no tiene métrica", "pon en `metric` un nombre o una lista de nombres")
        object.__setattr__(self, "metric", metrics[0] if len(metrics) == 1 else metrics)
        object.__setattr__(self, "labels", {str(k): str(v) for k, v in dict(self.labels or {}).items()})
        if self.condition not in CONDITIONS:
            raise AlertConfigError(f"{where} tiene un tipo de condición desconocido {self.condition!r}", f"elige entre {', '.join(CONDITIONS)}")
        if not isinstance(self.severity, str) or not self.severity:
            raise AlertConfigError(f"{where} no tiene severidad", f"elige entre {', '.join(SEVERITIES)}")
        object.__setattr__(self, "severity", self.severity.upper())
        for attr in ("value", "min", "max", "window_s", "for_s"):
            raw = getattr(self, attr)
            if raw is not None:
                object.__setattr__(self, attr, _number(raw, f"{where}: `{attr}`"))
        if self.for_s < 0 or self.window_s < 0:
            raise AlertConfigError(f"{where} tiene una duración negativa", "`for_s` y `window_s` son segundos >= 0")
        if self.condition in ("threshold", "rate"):
            if self.op not in OPS:
                raise AlertConfigError(f"{where} tiene un operador no válido {self.op!r}", f"elige entre {' '.join(OPS)}")
            if self.value is None:
                raise AlertConfigError(f"{where} no tiene umbral", "pon un número en `value`")
        if self.condition == "range":
            if self.min is None and self.max is None:
                raise AlertConfigError(f"{where} tiene un rango vacío", "pon `min` y/o `max`")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise AlertConfigError(f"{where} tiene un umbral no válido: min {self.min:g} > max {self.max:g}", "intercambia `min` y `max`")
        if self.condition in ("rate", "rate_of_change") and self.window_s <= 0:
            raise AlertConfigError(f"{where} necesita una ventana", "pon en `window_s` los segundos (> 0)")
        if self.condition == "rate" and self.agg not in AGGS:
            raise AlertConfigError(f"{where} tiene un agregado desconocido {self.agg!r}", f"elige entre {', '.join(AGGS)}")
        if self.condition == "rate_of_change":
            if self.value is None or self.value < 0:
                raise AlertConfigError(f"{where} tiene un umbral no válido {self.value!r}", "pon en `value` un cambio >= 0")
            if self.change not in CHANGES or self.direction not in DIRECTIONS:
                raise AlertConfigError(
                    f"{where} tiene un change {self.change!r} o una direction {self.direction!r} no válidos",
                    f"usa `change` en {CHANGES} y `direction` en {DIRECTIONS}",
                )

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric names as a tuple."""
        return (self.metric,) if isinstance(self.metric, str) else tuple(self.metric)

    def describe(self) -> str:
        """The condition as a short text, e.g. ``topic_lag > 1000``."""
        m = "|".join(self.metrics)
        if self.condition == "threshold":
            text = f"{m} {self.op} {self.value:g}"
        elif self.condition == "range":
            text = f"{m} outside [{'' if self.min is None else f'{self.min:g}'}, {'' if self.max is None else f'{self.max:g}'}]"
        elif self.condition == "rate":
            text = f"{self.agg}({m}, {self.window_s:g}s) {self.op} {self.value:g}"
        else:
            unit = "%" if self.change == "relative" else ""
            text = f"change({m}, {self.window_s:g}s) {self.direction} > {self.value:g}{unit}"
        return text + (f" for {self.for_s:g}s" if self.for_s else "")


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise AlertConfigError(f"{where} tiene un umbral no válido {raw!r} (no es un número)", "escribe un número sin más, p. ej. 1000")
    if not np.isfinite(raw):
        raise AlertConfigError(f"{where} tiene un umbral no válido {raw} (no es un número finito)", "escribe un número sin más, p. ej. 1000")
    return float(raw)


_NAMES = {"rules": "reglas", "levels": "niveles"}  # what the file is, in the messages


def _read_yaml(path: Path, key: str) -> Any:
    from dataops.userfiles import read_text

    text = read_text(path, f"el fichero de {_NAMES.get(key, key)}", AlertConfigError, empty_hint=f"empieza el fichero con `{key}:` (mira data/alerts/{key}.yaml)")
    return _parse_yaml(text, path, key)


def _parse_yaml(text: str, path: Path | str, key: str) -> Any:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AlertConfigError(f"{path}{line}: YAML mal formado ({problem})", "corrige la sangría o las comillas de esa línea") from None
    if isinstance(data, list) and key == "rules" and not isinstance(path, Path):
        return data  # rules typed in a notebook cell: the list alone is enough
    if not isinstance(data, dict) or key not in data:
        raise AlertConfigError(f"{path} no tiene sección `{key}:`", f"empieza el fichero con `{key}:`")
    return data[key]


def load_levels(path: str | Path | None = None) -> dict[str, Level]:
    """Read the severity levels (default ``data/alerts/levels.yaml``), by name."""
    path = Path(path or LEVELS_FILE)
    raw = _read_yaml(path, "levels")
    if not isinstance(raw, dict) or not raw:
        raise AlertConfigError(f"{path}: `levels` debe asociar nombres a niveles", "mira data/alerts/levels.yaml")
    levels: dict[str, Level] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise AlertConfigError(f"{path}: el nivel {name!r} debe ser un mapping", "da condition, response_time, escalation y channels")
        rt = spec.get("response_time_s", 0)
        levels[str(name).upper()] = Level(
            name=str(name).upper(),
            condition=str(spec.get("condition", "")),
            response_time=str(spec.get("response_time", "")),
            response_time_s=_number(rt, f"{path}: nivel {name!r}, `response_time_s`"),
            escalation=str(spec.get("escalation", "")),
            channels=tuple(str(c) for c in spec.get("channels") or ()),
        )
    return levels


def load_rules(path: str | Path | None = None, levels: Mapping[str, Level] | None = None) -> list[Rule]:
    """Read the alert rules (default ``data/alerts/rules.yaml``) and check them.

    Args:
        path: The rules file.
        levels: Allowed severities; default the levels file.

    Raises:
        AlertConfigError: One line naming the file and what is wrong.
    """
    path = Path(path or RULES_FILE)
    return _rules(_read_yaml(path, "rules"), path, levels)


def parse_rules(text: str, where: str = "tus reglas", levels: Mapping[str, Level] | None = None) -> list[Rule]:
    """Rules written as YAML text (a ``rules:`` section or just the list of ``- name: ...``).

    Raises:
        AlertConfigError: One line naming ``where`` and what is wrong.
    """
    return _rules(_parse_yaml(text, where, "rules"), where, levels)


def _rules(raw: Any, path: Path | str, levels: Mapping[str, Level] | None) -> list[Rule]:
    allowed = set(levels or load_levels())
    if not isinstance(raw, list):
        raise AlertConfigError(f"{path}: `rules` debe ser una lista", "escribe cada regla como `- name: ...`")
    rules: list[Rule] = []
    known = {f for f in Rule.__dataclass_fields__}
    for i, spec in enumerate(raw, 1):
        if not isinstance(spec, dict):
            raise AlertConfigError(f"{path}: la regla n.º {i} debe ser un mapping", "escribe cada regla como `- name: ...`")
        spec = dict(spec)
        if isinstance(spec.get("condition"), dict):  # nested form: condition: {type: range, min: ...}
            nested = dict(spec.pop("condition"))
            spec["condition"] = nested.pop("type", None)
            spec.update(nested)
        unknown = set(spec) - known
        if unknown:
            raise AlertConfigError(f"{path}: la regla {spec.get('name', f'#{i}')!r} tiene campos desconocidos: {', '.join(sorted(unknown))}", f"usa {', '.join(sorted(known))}")
        if isinstance(spec.get("metric"), list):
            spec["metric"] = tuple(spec["metric"])
        try:
            rule = Rule(**spec)
        except AlertConfigError as exc:
            raise AlertConfigError(f"{path}: {exc.message}", exc.hint) from None
        except TypeError as exc:
            raise AlertConfigError(f"{path}: la regla n.º {i} está incompleta ({exc})", "da al menos `name` y `metric`") from None
        if rule.severity not in allowed:
            raise AlertConfigError(f"{path}: la regla {rule.name!r} tiene una severidad desconocida {rule.severity!r}", f"elige entre {', '.join(allowed)}")
        if any(r.name == rule.name for r in rules):
            raise AlertConfigError(f"{path}: el nombre de regla {rule.name!r} está repetido", "da a cada regla un nombre único")
        rules.append(rule)
    return rules
