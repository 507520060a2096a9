"""The graded exercises the mutation run judges (:data:`EXERCISES`) and those it cannot (:data:`UNCOVERED`).

Each exercise says what its check reads of an answer, on the check's own data: that is the behaviour a
mutant is compared on. The cells that drive the stack between an answer and its check are done offline
as the grading tests do (``tests/unit/test_grading_honesty.py``, ``test_block5_known_wrong.py``): block
3's apply by a faithful stand-in (the broker holds what was declared, the API outage is modelled), block
5's dashboard over a fed metrics store (:mod:`dataops.course.offline`), block 6's workflow committed to a
scratch git repository.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from dataops.course.mutation import Exercise, Uncovered, outcome

_PRICES, _MARKET_CAP, _CORRELATION = "volatilidad_extrema", "capitalizacion_inconsistente", "correlacion_btc_eth"


# ---- block 2 ---------------------------------------------------------------------------------
def _frozen(scope: dict[str, Any]) -> list[Any]:
    from dataops.course import block2

    detector = scope["detectar_congelados"]
    return [outcome(lambda rows: sorted(set(detector(rows))), rows.copy()) for _, rows, _, _ in block2.frozen_cases()]


def _values(got: Any) -> Any:
    series = got if isinstance(got, pd.Series) else pd.Series(np.atleast_1d(np.asarray(got, dtype="float64")))
    return tuple(np.round(pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float), 9))


def _metric(scope: dict[str, Any]) -> Any:
    from dataops.course import block2

    compute = scope["calcular_metrica"]
    return scope["mi_metrica"], [outcome(lambda rows: _values(compute(rows)), block2._rows(seed)) for seed in (1, 2)]


@lru_cache(maxsize=None)
def _scenario(name: str) -> pd.DataFrame:
    from dataops import scenarios

    return scenarios.render_history(name)[0]


@lru_cache(maxsize=1)
def _clean() -> pd.DataFrame:
    from dataops.course import block2

    return block2.clean_history()


def _episodes(rule: Any, history: pd.DataFrame) -> tuple[Any, ...]:
    from dataops import alerts

    found = alerts.episodes(rule, history)
    return tuple(map(tuple, found[["metric", "labels", "start", "end"]].astype(str).to_numpy()))


def _alerts(scope: dict[str, Any]) -> dict[str, Any]:
    from dataops import alerts
    from dataops.course import block2

    out = {}
    for case, name in (("ETH", "alerta_eth"), ("API", "alerta_api"), ("calidad", "alerta_calidad")):
        rule = scope.get(name)
        if not isinstance(rule, alerts.Rule):
            out[case] = repr(rule)
            continue
        history = _scenario(block2.ALERT_CASES[case][0])
        out[case] = (rule.severity, _episodes(rule, history), _episodes(rule, _clean()))
    return out


# ---- block 3 ---------------------------------------------------------------------------------
def _declared(scope: dict[str, Any]) -> Any:
    from dataops.course import block3

    p, text = scope["p"], scope["mi_extension"]
    p.declaration(text)
    return block3._parse_alone(p, text).model_dump()


class _Broker:
    """The broker after a successful ``p.apply(mi_extension)``: each declared topic as declared."""

    DEFAULTS = {"retention.ms": "604800000", "cleanup.policy": "delete"}

    def __init__(self, declaration: Any) -> None:
        self.declaration = declaration

    def topic_config(self, name: str, keys: Any) -> dict[str, str] | None:
        topic = self.declaration.topic(name) if self.declaration is not None else None
        if topic is None:
            return None
        return {"partitions": str(topic.partitions), **{k: str(topic.config.get(k, self.DEFAULTS.get(k, ""))) for k in keys}}


class _Applied:
    """``p`` after the apply, offline: its settings and declarations, and the broker above."""

    def __init__(self, p: Any, declaration: Any) -> None:
        self._p, self.settings, self.kafka = p, p.settings, _Broker(declaration)

    def declaration(self, extra: str | None = None) -> Any:
        return self._p.declaration(extra)


@contextlib.contextmanager
def _apply_offline(scope: dict[str, Any]) -> Iterator[None]:
    """``informe_2 = p.apply(mi_extension, ...)`` done offline: a report of a successful apply naming each
    check, the broker as declared, and the preflight checks under the API outage modelled: an ``http`` check
    of the prices API (``${source_api_url}``) fails while it is down; any other check is not touched by it."""
    from dataops.automation import checks
    from dataops.course import block3

    p, text = scope["p"], scope.get("mi_extension")
    try:
        mine = block3._parse_alone(p, text)
    except Exception:  # noqa: BLE001 - the check itself says it is not valid
        mine = None
    api = p.settings.source_api_url.rstrip("/")

    def outage(_p: Any, extension: Any) -> tuple[list[Any], list[Any]]:
        up = [checks.Outcome(c.name, True, "ok") for c in extension.preflight]
        down = [checks.Outcome(c.name, not (c.kind == "http" and str(c.url).startswith(api)), "modelled")
                for c in extension.preflight]
        return up, down

    names = [c.name for c in (*mine.preflight, *mine.validation)] if mine is not None else []
    report = pd.DataFrame({"paso": ["apply"], "estado": ["✔"], "detalle": [" ".join(names)]})
    report.attrs["ok"] = mine is not None
    scope["informe_2"], scope["p"] = report, _Applied(p, mine)
    original = block3._preflight_under_outage
    block3._preflight_under_outage = outage
    try:
        yield
    finally:
        block3._preflight_under_outage = original
        scope["p"] = p


# ---- block 4 ---------------------------------------------------------------------------------
def _flags(check: str, key: Any = None) -> Any:
    def behaviour(scope: dict[str, Any]) -> Any:
        from dataops.course import block4

        rows, _, _ = block4._frame(getattr(block4, check)())
        out = outcome(scope[_NAMES[check]], rows.copy())
        mask = block4._mask(out, rows)
        if mask is None:
            return repr(out) if isinstance(out, tuple) else type(out).__name__
        if key is not None:
            keys = key(rows)
            mask = keys.map(mask.groupby(keys).any())
        return tuple(mask.to_numpy(dtype=bool))

    return behaviour


_NAMES = {"volatility_cases": _PRICES, "market_cap_cases": _MARKET_CAP, "correlation_cases": _CORRELATION}


# ---- block 5 ---------------------------------------------------------------------------------
def _eth_rules(scope: dict[str, Any]) -> Any:
    from dataops.course import block5
    from dataops.course.selfcheck import SelfCheck

    probe = SelfCheck("")
    rules = block5._rules(scope["reglas_eth"], probe)
    if rules is None:
        return ("unreadable", probe.failed)
    out = {}
    for name in block5.ETH_RULES:
        rule = rules.get(name)
        if rule is None:
            out[name] = None
            continue
        histories = [block5._history(sc.name)[0] for sc, _ in block5.eth_cases()] + [block5._history("limpio")[0]]
        out[name] = (rule.severity, rule.labels.get("coin"), tuple(_episodes(rule, h) for h in histories))
    return out


def _offline_dataops(scope: dict[str, Any]) -> None:
    """``dataops.start_monitoring`` for the answer cell: the real dashboard over a fed store (no stack)."""
    from types import SimpleNamespace

    from dataops.course.offline import OfflineStarter

    folder = Path(scope["tmp"]) / f"monitor-{next(_FOLDERS)}"
    folder.mkdir(parents=True)
    scope["dataops"] = SimpleNamespace(start_monitoring=OfflineStarter(scope["p"].settings, folder))


def _stop_monitors(scope: dict[str, Any]) -> None:
    scope["dataops"].start_monitoring.stop_all()


def _dashboard(scope: dict[str, Any]) -> Any:
    """What the check reads of the monitor: whether it has a live panel and which topics it watches."""
    monitor = scope.get("monitor")
    board = getattr(monitor, "dashboard", None)
    return type(monitor).__name__, board is not None, tuple(getattr(board, "topics", ()))


_FOLDERS = itertools.count(1)


# ---- block 6 ---------------------------------------------------------------------------------
def _workflow(scope: dict[str, Any]) -> Any:
    """The workflow as data: the check reads the whole file (the linter, the triggers, each job and step)."""
    import yaml

    return yaml.safe_load(scope["mi_workflow"])


_REPOS = itertools.count(1)


@contextlib.contextmanager
def _scratch_repo(scope: dict[str, Any]) -> Iterator[None]:
    """``block6.place_workflow(repo, mi_workflow)`` in a fresh git repository (the project's clone, offline)."""
    from dataops.course import block6

    repo = Path(scope["tmp"]) / f"repo-{next(_REPOS)}"
    repo.mkdir(parents=True)
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.org"], ["config", "user.name", "t"],
                 ["commit", "-q", "--allow-empty", "-m", "course"]):  # fmt: skip
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    scope["repo"] = repo
    block6.place_workflow(repo, scope.get("mi_workflow"))
    yield


# ---- the registry ----------------------------------------------------------------------------
EXERCISES: list[Exercise] = [
    Exercise("02.schema", "02_diseno_dataops", "respuesta_1", "check_respuesta_1", lambda s: s["respuesta_1"]),
    Exercise("02.frozen", "02_diseno_dataops", "detectar_congelados", "check_congelados", _frozen),
    Exercise("02.metric", "02_diseno_dataops", "mi_metrica", "check_metrica", _metric,
             labels={"dispersion_cambio_24h": "metric"}),
    Exercise("02.alerts", "02_diseno_dataops", "alertas", "check_alertas", _alerts),
    Exercise("03.extension", "03_automatizacion", "mi_extension", "check_extension", _declared, variable="mi_extension",
             stand_in=_apply_offline, covered="the declaration (topic, partitions, retention, policy, its checks, kinds, URLs)",
             not_covered="the live part: the broker, the preflight under a real API outage and the apply report are "
                         "stood in for (a faithful apply, the outage modelled on the check's kind and URL)"),
    Exercise("04.volatility", "04_testing_calidad", _PRICES, "check_volatilidad", _flags("volatility_cases")),
    Exercise("04.market_cap", "04_testing_calidad", _MARKET_CAP, "check_capitalizacion", _flags("market_cap_cases")),
    Exercise("04.correlation", "04_testing_calidad", _CORRELATION, "check_correlacion",
             _flags("correlation_cases", key=lambda rows: rows["event_time"])),
    Exercise("05.dashboard", "05_monitoreo", "monitorizacion", "check_monitorizacion", _dashboard, setup=_offline_dataops,
             teardown=_stop_monitors, covered="the monitor the answer starts, its panel and topics, over a fed metrics store",
             not_covered="the live part: the panel refreshes over a stand-in store fed the way the stack's monitor feeds it"),
    Exercise("05.eth_rules", "05_monitoreo", "reglas_eth", "check_reglas_eth", _eth_rules, variable="reglas_eth"),
    Exercise("06.workflow", "06_cicd", "mi_workflow", "check_workflow", _workflow, variable="mi_workflow",
             stand_in=_scratch_repo),
]  # fmt: skip

UNCOVERED: list[Uncovered] = [
    Uncovered("03.setup", "check_montaje", "p.apply() on the running stack, and its answer is one call with nothing to mutate "
                                           "but its progress flag and wait (the check reads the stack, not the call)"),
    Uncovered("05.drill", "check_simulacro", "the live drill (fire, Slack, resolve on the simulator); its answer is reglas_eth, "
                                             "whose mutants 05.eth_rules judges on the hidden histories"),
]  # fmt: skip
