"""Loading scenarios: the :class:`Scenario` and :class:`Incident` model and the YAML reader.

A scenario is data (``data/scenarios/<name>.yaml``); see :mod:`dataops.scenarios` for its keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dataops.coins import DEFAULT_COINS
from dataops.config import DATA_DIR
from dataops.errors import ScenarioError
from dataops.simulator import CATALOG, FAULTS
from dataops.userfiles import read_text

__all__ = ["ACTIONS", "SCENARIO_DIR", "Incident", "Scenario", "load_scenario", "resolve", "scenarios"]

SCENARIO_DIR = DATA_DIR / "scenarios"
ACTIONS: tuple[str, ...] = ("pause_consumer",)


@dataclass(frozen=True)
class Incident:
    """One incident window of a scenario.

    Attributes:
        start_s: Offset of the start from the scenario start.
        end_s: Offset of the end.
        fault: Simulator fault name, or None for an action.
        action: Caller-side action (``pause_consumer``), or None for a fault.
        params: Fault parameters (sent to ``inject_fault``).
        effect: Render-only knobs (``error_rate``, ``lag_per_s``...).
        expected_rules: Alert rules that should fire during the window.
        label: Human description (Spanish).
    """

    start_s: float
    end_s: float
    fault: str | None
    action: str | None
    params: Mapping[str, Any]
    effect: Mapping[str, Any]
    expected_rules: tuple[str, ...]
    label: str

    @property
    def kind(self) -> str:
        """The fault or action name."""
        return self.fault or self.action or ""


@dataclass(frozen=True)
class Scenario:
    """A labelled incident timeline (see the :mod:`dataops.scenarios` docstring)."""

    name: str
    description: str
    duration_s: float
    baseline: Mapping[str, Any] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()

    @property
    def coins(self) -> tuple[str, ...]:
        """Coins of the rendered price series."""
        return tuple(self.baseline.get("coins", DEFAULT_COINS))


def _names(directory: Path = SCENARIO_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_scenario(name: str | Path) -> Scenario:
    """Load ``data/scenarios/<name>.yaml`` (or a path to a YAML file).

    Raises:
        ScenarioError: Unknown name, malformed YAML or an invalid incident.
    """
    is_file = str(name).endswith((".yaml", ".yml"))
    path = Path(name) if is_file else SCENARIO_DIR / f"{name}.yaml"
    if not is_file and not path.is_file():
        raise ScenarioError(f"escenario desconocido {str(name)!r}", f"elige entre {', '.join(_names())}")
    text = read_text(path, "el escenario", ScenarioError, empty_hint="un escenario tiene name, duration_s e incidents (mira data/scenarios/)")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(f"YAML mal formado en el escenario {path}" + (f" línea {mark.line + 1}" if mark else ""),
                            "corrige la sangría o las comillas de esa línea") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"el escenario {path} debe ser un mapping", "un escenario tiene name, duration_s e incidents (mira data/scenarios/)")
    try:
        duration = float(doc["duration_s"])
        if not (math.isfinite(duration) and duration > 0):
            raise ValueError(f"duration_s debe ser un número de segundos > 0, no {doc['duration_s']!r}")
        incidents = tuple(_incident(item, duration, path.name) for item in doc.get("incidents") or [])
        scenario = Scenario(
            name=str(doc.get("name") or path.stem),
            description=str(doc.get("description", "")),
            duration_s=duration,
            baseline=dict(doc.get("baseline") or {}),
            incidents=incidents,
        )
    except KeyError as exc:
        raise ScenarioError(f"al escenario {path} le falta la clave {exc.args[0]!r}", f"añádele `{exc.args[0]}:`") from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"el escenario {path} no es válido ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                            "compáralo con los escenarios de data/scenarios/") from None
    unknown = [c for c in scenario.coins if c not in CATALOG]
    if unknown:
        raise ScenarioError(f"escenario {path}: monedas desconocidas: {', '.join(unknown)}", f"usa monedas de {', '.join(CATALOG)}")
    return scenario


def _incident(item: Any, duration: float, where: str) -> Incident:
    if not isinstance(item, dict):
        raise ValueError(f"el incidente {item!r} no es un mapping")
    fault, action = item.get("fault"), item.get("action")
    if (fault is None) == (action is None):
        raise ValueError("cada incidente necesita exactamente uno de fault / action")
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"fallo desconocido {fault!r} (usa {', '.join(FAULTS)})")
    if action is not None and action not in ACTIONS:
        raise ValueError(f"acción desconocida {action!r} (usa {', '.join(ACTIONS)})")
    start, end = float(item["start_s"]), float(item["end_s"])
    if not 0 <= start < end <= duration:
        raise ValueError(f"la ventana del incidente {start:g}-{end:g} s cae fuera de 0-{duration:g} s")
    rules = item.get("expected_rules") or []
    if not isinstance(rules, list) or not rules:
        raise ValueError("expected_rules debe ser una lista no vacía")
    return Incident(
        start, end, fault, action, dict(item.get("params") or {}), dict(item.get("effect") or {}),
        tuple(str(r) for r in rules), str(item.get("label", fault or action)),
    )  # fmt: skip


def scenarios() -> pd.DataFrame:
    """Available scenarios: ``name, description, incidents`` (incident count), ``duration_s``."""
    rows = []
    for name in _names():
        s = load_scenario(name)
        rows.append({"name": s.name, "description": s.description, "incidents": len(s.incidents), "duration_s": s.duration_s})
    return pd.DataFrame(rows, columns=["name", "description", "incidents", "duration_s"])


def resolve(scenario: Scenario | str) -> Scenario:
    """The scenario itself, or the one of that name loaded."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
