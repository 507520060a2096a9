"""Block 5 (Monitoreo): the course's key metrics read live, Practice 6's Ethereum alerts judged
on hidden histories, and the live drill that makes each one fire, reach the local Slack
webhook and the alert log, and resolve."""

from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from typing import Any

import pandas as pd

from dataops import alerts, rotation, scenarios
from dataops.course import cases as edition_cases
from dataops.course.selfcheck import SelfCheck
from dataops.pipeline import Pipeline

# The course's key metrics: (kind, metric, what the learner reads, unit)
KEY_METRICS = [
    ("pipeline", "throughput", "throughput por tópico", "mensajes/s"),
    ("pipeline", "processing_latency", "latencia de procesamiento (Flink)", "s"),
    ("pipeline", "e2e_latency", "latencia extremo a extremo (API → DuckDB)", "s"),
    ("pipeline", "error_rate", "tasa de error", "%"),
    ("pipeline", "quality_score", "puntuación de calidad", "%"),
    ("negocio", "price_updates", "actualizaciones de precio por minuto", "/min"),
    ("negocio", "api_response_time", "tiempo de respuesta de la API", "ms"),
    ("negocio", "data_freshness", "frescura de los datos", "s"),
    ("negocio", "coin_coverage", "cobertura de monedas (vistas / esperadas)", "%"),
]

# Practice 6: rule name -> (severity, the series it watches, the incident that must fire it)
ETH_RULES = {
    "ETH_PRICE_HIGH": ("MEDIUM", "price{coin=ethereum}", "ETH sube a ~5.600 USD"),
    "ETH_CRASH": ("HIGH", "price_change_24h{coin=ethereum}", "la API informa ETH −20 % en 24 h"),
}
CLEAN_HOURS = 24


def key_metrics(p: Pipeline) -> pd.DataFrame:
    """The newest value of each key metric (one row per series; "—" while it has no sample)."""
    latest = p.monitor.latest()
    rows = []
    for kind, metric, what, unit in KEY_METRICS:
        found = latest[latest["metric"] == metric] if len(latest) else latest
        if found.empty:
            rows.append((kind, what, None, unit, "sin muestra todavía"))
        for _, r in found.iterrows():
            rows.append((kind, what + (f" ({r['topic']})" if r.get("topic") else ""), round(float(r["value"]), 2), unit,
                         f"hace {max(time.time() - pd.Timestamp(r['ts']).timestamp(), 0):.0f} s"))  # fmt: skip
    return pd.DataFrame(rows, columns=["tipo", "métrica", "valor", "unidad", "medida"])


# ---- Practice 6 · the hidden histories -----------------------------------------------------------
def _spike(name: str, coin: str, factor: float, change: float | None, fires: tuple[str, ...], label: str) -> scenarios.Scenario:
    params: dict[str, Any] = {"coin": coin, "factor": factor} | ({"change_24h": change} if change is not None else {})
    incident = scenarios.Incident(1200.0, 2100.0, "spike", None, params, {"ramp_s": 60}, fires or ("ninguna",), label)
    return scenarios.Scenario(name, label, 3600.0, {"poll_interval_s": 30}, (incident,))


def _formative_eth() -> list[tuple[scenarios.Scenario, set[str]]]:
    return [
        (_spike("eth-sube", "ethereum", 1.7, None, ("ETH_PRICE_HIGH",), "ETH sube a ~5.950 USD"), {"ETH_PRICE_HIGH"}),
        (_spike("eth-cae", "ethereum", 0.75, -25.0, ("ETH_CRASH",), "la API informa ETH −25 % en 24 h"), {"ETH_CRASH"}),
        (_spike("ada-cae", "cardano", 0.7, -28.0, (), "Cardano −28 % en 24 h (otra moneda)"), set()),
    ]  # fmt: skip


def eth_cases() -> list[tuple[scenarios.Scenario, set[str]]]:
    """One-hour histories, each with the ETH rules that must fire on it (and no other): the hidden ones
    in the instructor's edition, the formative ones in the learner's."""
    return edition_cases.pick("block5", "eth_cases", _formative_eth)


@lru_cache(maxsize=None)
def _history(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name == "limpio":
        base = scenarios.Scenario("limpio", "24 h sin incidentes", CLEAN_HOURS * 3600.0, {"poll_interval_s": 30})
        return scenarios.render_history(base, seed=11, step_s=60)
    scenario = next(sc for sc, _ in eth_cases() if sc.name == name)
    return scenarios.render_history(scenario, seed=5, step_s=15)


def _rules(answer: Any, check: SelfCheck) -> dict[str, alerts.Rule] | None:
    """The learner's rules by name; None when there are none to judge (``check`` then says why:
    not done yet, or a ✘ saying they cannot be read)."""
    if answer is None:
        check.done = False
        return None
    try:
        if isinstance(answer, str):
            rules = alerts.parse_rules(answer)
        else:
            rules = list(answer)
            if not all(isinstance(r, alerts.Rule) for r in rules):
                raise TypeError("una lista de alerts.Rule")
    except (alerts.AlertConfigError, TypeError) as exc:
        check.add("tus reglas se leen", False, f"{exc}")
        return None
    return {r.name: r for r in rules}


def check_eth_alerts(answer: Any) -> SelfCheck:
    """``answer``: the two rules as YAML text (or a list of :class:`~dataops.alerts.Rule`), judged by
    name, severity, label, and a backtest on the cases' histories (:func:`eth_cases`): each fires on its incident within
    its level's response time, and stays silent on the others and on a clean day."""
    check = SelfCheck("Práctica 6 · alertas de Ethereum", todo="escribe reglas_eth con ETH_PRICE_HIGH y ETH_CRASH", note=edition_cases.note("block5"))
    rules = _rules(answer, check)
    if rules is None:
        return check
    levels = alerts.load_levels()
    for name, (severity, series, _) in ETH_RULES.items():
        rule = rules.get(name)
        if not check.add(f"{name}: existe", rule is not None, f"ninguna regla se llama {name} (tienes: {', '.join(rules) or 'ninguna'})"):
            continue
        check.add(f"{name}: nivel {severity}", rule.severity == severity, f"tiene {rule.severity}: mira la tabla de niveles del enunciado")
        check.add(f"{name}: solo ethereum (coin=ethereum)", rule.labels.get("coin") == "ethereum",
                  f"filtra la serie con labels: {{coin: ethereum}} (tienes {dict(rule.labels) or 'ninguna etiqueta'})")  # fmt: skip
        limit = levels[rule.severity].response_time_s if rule.severity in levels else 0.0
        for scenario, fires in eth_cases():
            history, incidents = _history(scenario.name)
            label = scenario.description
            if name in fires:
                bt = alerts.backtest([rule], history, incidents.drop_duplicates(["start", "end"]).assign(rule="")).iloc[0]
                delay = bt["mean_delay_s"]
                check.add(f"{name}: dispara cuando {label} (en ≤ {limit:.0f} s)", bt["detected"] == 1 and not math.isnan(delay) and delay <= limit,
                          f"no dispara a tiempo: ¿la serie es {series} y el umbral el del enunciado?")  # fmt: skip
                check.add(f"{name}: solo durante ese incidente", bt["episodes"] >= 1 and bt["precision"] == 1.0,
                          f"dispara {bt['episodes']} vez/veces y {bt['episodes'] - bt['true_episodes']} fuera del incidente")  # fmt: skip
            else:
                fired = alerts.episodes(rule, history)
                check.add(f"{name}: en silencio cuando {label}", fired.empty,
                          f"dispara {len(fired)} vez/veces: revisa la serie, la moneda y el umbral (por encima de, no igual)")  # fmt: skip
        quiet = alerts.episodes(rule, _history("limpio")[0])
        check.add(f"{name}: en silencio {CLEAN_HOURS} h sin incidentes", quiet.empty,
                  f"dispara {len(quiet)} vez/veces en un día normal: una alerta que siempre suena no avisa de nada")  # fmt: skip
    return check


# ---- Practice 6 · live -----------------------------------------------------------------------------
def alert_manager(p: Pipeline, slack: alerts.WebhookReceiver | None = None, display: bool | None = None) -> alerts.AlertManager:
    """An alert manager routed by the course's levels: notebook cards, the alert log, and the local
    Slack webhook (when given)."""
    notifiers: list[Any] = [alerts.NotebookNotifier(display), alerts.LogFileNotifier(p.settings.paths.alert_log, p.settings.log_max_bytes, p.settings.log_backups)]
    if slack is not None:
        notifiers.append(alerts.WebhookNotifier(slack.url, name="slack"))
    return alerts.AlertManager(notifiers=notifiers)


def _eth_price(p: Pipeline) -> float:
    prices = p.source.price(["ethereum"])
    return float(prices["price"].iloc[0])


def _until(predicate: Any, timeout_s: float, step_s: float) -> float | None:
    """Seconds until ``predicate()`` holds, or None after ``timeout_s``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if predicate():
            return time.monotonic() - t0
        time.sleep(step_s)
    return None


def eth_drill(p: Pipeline, answer: Any, manager: alerts.AlertManager, timeout_s: float = 120.0, step_s: float = 2.0) -> SelfCheck:
    """Make each ETH rule fire on the live simulator, then clear the fault and wait for it to resolve.

    ETH_PRICE_HIGH: ``spike`` on ethereum up to ~5.600 USD; ETH_CRASH: ``spike`` on ethereum with a
    reported 24h change of −20 %. Each transition goes through ``manager`` (cards, log, webhook).
    The check's ``table``: one row per rule with seconds to fire, the level's limit, the channels
    reached and seconds to resolve.
    """
    check = SelfCheck("Práctica 6 · las alertas en vivo", todo="escribe reglas_eth arriba y vuelve a ejecutar esta celda")
    check.table = pd.DataFrame()
    rules = _rules(answer, check)
    if rules is None:
        return check
    levels = alerts.load_levels()
    rows = []
    for name in ETH_RULES:
        rule = rules.get(name)
        if not check.add(f"{name}: existe", rule is not None, f"ninguna regla se llama {name}"):
            continue
        reached: set[str] = set()

        def state(rule: alerts.Rule = rule, reached: set[str] = reached) -> str:
            results = alerts.evaluate([rule], p.metrics(minutes=5))
            for event in manager.process(results).to_dict("records"):
                reached.update(event.get("delivered") or [])
            return "firing" if (results["status"] == "firing").any() else "ok"

        params = {"factor": 5600.0 / _eth_price(p)} if name == "ETH_PRICE_HIGH" else {"factor": 0.9, "change_24h": -20.0}
        fault = p.source.inject_fault("spike", duration_s=timeout_s + 30, coin="ethereum", **params)
        try:
            fired = _until(lambda: state() == "firing", timeout_s, step_s)
        finally:
            p.source.clear_faults(fault["id"])
        resolved = _until(lambda: state() == "ok", timeout_s, step_s) if fired is not None else None
        limit = levels[rule.severity].response_time_s if rule.severity in levels else float("nan")
        check.add(f"{name}: dispara en vivo", fired is not None and fired <= limit,
                  f"no disparó en {timeout_s:.0f} s: ¿el monitor está en marcha (dataops status)?")  # fmt: skip
        check.add(f"{name}: llega a Slack (webhook local) y al log", {"webhook:slack", "log"} <= reached,
                  f"llegó a: {', '.join(sorted(reached)) or 'ningún canal'}; el nivel {rule.severity} no enruta a Slack")  # fmt: skip
        check.add(f"{name}: se resuelve al quitar el fallo", resolved is not None, f"sigue activa {timeout_s:.0f} s después")
        rows.append({"regla": name, "nivel": rule.severity, "disparó tras (s)": None if fired is None else round(fired, 1),
                     "límite del nivel (s)": limit, "canales": ", ".join(sorted(reached)) or "—",
                     "resuelta tras (s)": None if resolved is None else round(resolved, 1)})  # fmt: skip
    check.table = pd.DataFrame(rows)
    return check


def both_engines(p: Pipeline, answer: Any, timeout_s: float = 120.0, step_s: float = 1.0) -> pd.DataFrame | str:
    """The ETH crash once more, watched by this project's alert engine and by a real Prometheus
    server evaluating the same rule exported to PromQL: seconds until each fires.

    Returns one line saying how to get Prometheus when it is not running (it is optional).
    """
    from dataops.stack import prometheus

    if not prometheus.healthy(p.settings):
        return f"Prometheus no está en marcha (es opcional): `dataops up --with prometheus`; si falta el programa, {prometheus.HOW_TO_GET}."
    check = SelfCheck("dos motores")
    rules = _rules(answer, check)
    crash = (rules or {}).get("ETH_CRASH")
    if crash is None:
        return "escribe reglas_eth (con ETH_CRASH) y pasa su autocomprobación primero"
    prometheus.load_rules(p.settings, [*alerts.load_rules(), crash])
    fault = p.source.inject_fault("spike", duration_s=timeout_s + 30, coin="ethereum", factor=0.9, change_24h=-20.0)
    seen: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        while len(seen) < 2 and time.monotonic() - t0 < timeout_s:
            if "dataops" not in seen and (alerts.evaluate([crash], p.metrics(minutes=5))["status"] == "firing").any():
                seen["dataops"] = time.monotonic() - t0
            if "Prometheus" not in seen:
                now = prometheus.firing(p.settings)
                if ((now["rule"] == "ETH_CRASH") & (now["state"] == "firing")).any():
                    seen["Prometheus"] = time.monotonic() - t0
            time.sleep(step_s)
    finally:
        p.source.clear_faults(fault["id"])
    return pd.DataFrame([{"motor": engine, "ETH_CRASH disparó tras (s)": round(seen[engine], 1) if engine in seen else None}
                         for engine in ("dataops", "Prometheus")])  # fmt: skip


def check_dashboard(monitor: Any, wait_s: float = 60.0) -> SelfCheck:
    """Practice 5: a live dashboard of both topics that refreshes by itself and counts messages."""
    check = SelfCheck("Práctica 5 · monitorización en vivo", todo="arranca monitor = dataops.start_monitoring([...])")
    if monitor is None:
        check.done = False
        return check
    board = getattr(monitor, "dashboard", None)
    if not check.add("hay un panel en vivo", board is not None, "usa dataops.start_monitoring([...]) en una celda del cuaderno"):
        return check
    wanted = {monitor.settings.topic_raw, monitor.settings.topic_exploded}
    check.add("vigila crypto-prices y crypto-prices-exploded", wanted <= set(board.topics), f"vigila {', '.join(board.topics)}")

    def counted() -> bool:
        last = board.last
        return last is not None and bool((last.topics.set_index("tópico").reindex(list(wanted))["mensajes"].fillna(0) > 0).all())

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not (board.refreshes >= 2 and counted()):
        time.sleep(1.0)
    check.add("se actualiza solo (≥ 2 refrescos)", board.refreshes >= 2 and board.running, "¿lo paraste ya con monitor.stop()?")
    check.add("cuenta mensajes en los dos tópicos", counted(), f"sin mensajes en {wait_s:.0f} s: mira `dataops status`")
    check.add("muestra la salud de cada capa", board.last is not None and len(board.last.health) >= 5, "el panel no lee la salud")
    return check


def alert_log(p: Pipeline, last: int = 6) -> pd.DataFrame:
    """The newest lines of the alert log (one JSON event per line, across its rotated files)."""
    lines = rotation.read_lines(p.settings.paths.alert_log, last)
    frame = pd.DataFrame([json.loads(line) for line in lines])
    return frame[[c for c in ("ts", "kind", "severity", "rule", "labels", "value") if c in frame]] if len(frame) else frame


def threads_left() -> list[str]:
    """The project's background threads still alive (dashboards, panels, webhook receivers, samplers)."""
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("dataops-") and t.is_alive()]
