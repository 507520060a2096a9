"""Block 2's exercises: the three questions (schema change, frozen prices, a metric of your own)
and the three alerts, each with a self-check that rejects wrong answers, not only empty ones."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from dataops import alerts, scenarios
from dataops.classroom.namespace import resolve
from dataops.coins import DEFAULT_COINS
from dataops.config import Settings, load_settings
from dataops.course import cases as edition_cases
from dataops.course.selfcheck import SelfCheck, run_learner_code
from dataops.metrics import METRICS
from dataops.pipeline import Pipeline

COINS: tuple[str, ...] = DEFAULT_COINS  # the pipeline's default coins (dataops.coins)
EXAMPLE_METRIC = "spread_btc_eth"  # the example the notebook gives: not an answer of your own
_REASON_WORDS = ("flink", "dlq", "dead", "cola", "contrato", "esquema", "schema", "valid", "motivo", "reason", "descart", "separ")


# ---- 1 · schema change --------------------------------------------------------------------
def check_schema_change(answer: Any, settings: Settings | None = None) -> SelfCheck:
    """``answer = {"topico": ..., "motivo": ...}``: the dead-letter topic, and why in your own words."""
    settings = settings or load_settings()
    check = SelfCheck("Ejercicio 3.1 · cambio de esquema", todo="rellena respuesta_1 con el tópico y el motivo")
    if not isinstance(answer, dict) or not any(str(v).strip() for v in answer.values()):
        check.done = False
        return check
    topic = str(answer.get("topico", "")).strip()
    why = str(answer.get("motivo", "")).strip()
    check.add("el tópico donde acaban los sondeos con el esquema cambiado", resolve(settings, topic) == settings.topic_dlq,
              "mira a qué tópico llegan en la tabla de la DLQ")  # fmt: skip
    words = re.findall(r"\w+", why.lower())
    own = [w for w in words if w not in set(re.findall(r"\w+", topic.lower()))]
    check.add("el motivo, con tus palabras (8 palabras o más)", len(own) >= 8,
              "explica quién lo detecta y qué hace con el sondeo, no repitas solo el nombre del tópico")  # fmt: skip
    check.add("el motivo nombra el mecanismo (Flink, el contrato, la DLQ…)", any(w.startswith(_REASON_WORDS) for w in own),
              "¿quién valida cada moneda y qué pasa con la que no cumple el contrato?")  # fmt: skip
    return check


# ---- 2 · frozen prices ----------------------------------------------------------------------
def _samples(n: int, frozen: dict[str, Any] | None = None, coins: tuple[str, ...] = COINS, seed: int = 0) -> pd.DataFrame:
    """``n`` samples of every coin, each price moving every sample, except ``coin: (first, length)``
    runs of identical prices (or a list of such runs)."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    rows = []
    for c, coin in enumerate(coins):
        price = 100.0 * (c + 1)
        runs = (frozen or {}).get(coin, [])
        runs = [runs] if isinstance(runs, tuple) else runs
        for i in range(n):
            if not any(first < i < first + length for first, length in runs):  # a run's first sample sets the price it repeats
                price *= 1 + rng.choice([-1, 1]) * rng.uniform(0.001, 0.01)
            rows.append({"ts": t0 + pd.Timedelta(seconds=30 * i), "coin_id": coin, "usd": round(price, 6)})
    return pd.DataFrame(rows).sort_values(["ts", "coin_id"], kind="stable").reset_index(drop=True)


def _formative_frozen() -> list[tuple[str, pd.DataFrame, set[str], str]]:
    return [
        ("mercado tranquilo: ninguna congelada", _samples(8, seed=3), set(), "no marques monedas cuyo precio cambia"),
        ("cardano quieta 7 muestras", _samples(14, {"cardano": (2, 7)}, seed=3), {"cardano"}, "recorre todas las monedas"),
        ("una racha de 3 no es congelación", _samples(10, {"bitcoin": (4, 3)}, seed=3), set(), "una congelación son 5 muestras iguales seguidas como mínimo"),
    ]  # fmt: skip


def frozen_cases() -> list[tuple[str, pd.DataFrame, set[str], str]]:
    """``(case, samples, the frozen coins, hint)``: the hidden ones in the instructor's edition, the formative ones in the learner's."""
    return edition_cases.pick("block2", "frozen_cases", _formative_frozen)


def check_frozen_detector(detector: Callable[[pd.DataFrame], Any]) -> SelfCheck:
    """The detector on labelled cases it has not seen: moving markets, short runs, one coin frozen while others move."""
    check = SelfCheck("Para ir más lejos · precios congelados", todo="escribe detectar_congelados(rows)", note=edition_cases.note("block2"))
    groups = frozen_cases()
    ran, first = run_learner_code(check, "tu función se ejecuta", detector, groups[0][1].copy())
    if ran and first is None:
        check.items.clear()
        check.done = False
        return check
    for case, rows, expected, hint in groups:
        ok, got = run_learner_code(check, case, detector, rows.copy())
        if ok:
            found = set(got) if isinstance(got, (set, list, tuple, frozenset, pd.Series, pd.Index)) else got
            check.add(case, found == expected, f"{hint} (esperado {sorted(expected) or 'ninguna'}, tu función dio {sorted(found) if isinstance(found, set) else found!r})")
    return check


# ---- 3 · a metric of your own ----------------------------------------------------------------
def _rows(seed: int) -> pd.DataFrame:
    """Exploded rows of 20 polls of every coin (what the notebook reads from crypto-prices-exploded)."""
    rows = _samples(20, seed=seed).rename(columns={"ts": "event_time"})
    rows["usd_24h_change"] = np.random.default_rng(seed).normal(0, 3, len(rows))
    rows["usd_market_cap"] = rows["usd"] * 1e7
    rows["usd_24h_vol"] = rows["usd"] * 1e5
    rows["last_updated_at"] = (rows["event_time"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)  # any datetime unit
    return rows


def check_custom_metric(name: str, compute: Callable[[pd.DataFrame], Any] | None) -> SelfCheck:
    """A metric of your own: a new name, and a function of the rows whose value follows the data."""
    check = SelfCheck("Ejercicio 3.2 · una métrica propia", todo="pon un nombre en mi_metrica y escribe calcular_metrica(filas)")
    if not name or compute is None:
        check.done = False
        return check
    check.add("un nombre de métrica válido (minúsculas, dígitos y _)", bool(re.fullmatch(r"[a-z][a-z0-9_]{2,60}", name)),
              "p. ej. dlq_por_minuto")  # fmt: skip
    check.add("una métrica nueva, no una que el monitor ya mide ni el ejemplo", name not in METRICS and name != EXAMPLE_METRIC,
              f"el monitor ya mide {', '.join(sorted(METRICS)[:4])}…; {EXAMPLE_METRIC} es el ejemplo")  # fmt: skip
    values = []
    for seed in (1, 2):
        ok, got = run_learner_code(check, f"calcular_metrica con datos de prueba #{seed}", compute, _rows(seed))
        if not ok:
            return check
        try:
            series = got if isinstance(got, pd.Series) else pd.Series(np.atleast_1d(np.asarray(got, dtype="float64")))
            values.append(pd.to_numeric(series, errors="coerce").dropna())
        except (TypeError, ValueError):
            values.append(pd.Series(dtype="float64"))
    finite = all(len(v) and np.isfinite(v.to_numpy()).all() for v in values)
    check.add("devuelve números (uno o una serie)", finite, "devuelve un número o una pd.Series de números, sin NaN")
    if finite:
        check.add("su valor depende de los datos", not (len(values[0]) == len(values[1]) and np.allclose(values[0].to_numpy(), values[1].to_numpy())),
                  "con otros datos tu métrica da lo mismo: ¿usas las filas?")  # fmt: skip
    return check


def record_metric(p: Pipeline, name: str, compute: Callable[[pd.DataFrame], Any] | None, rows: pd.DataFrame):
    """Compute your metric on ``rows``, write it to the monitor's store and plot its last hour.

    A series indexed by time keeps its timestamps; a single number is stamped now.
    """
    from dataops import plots
    from dataops.metrics import Sample

    if not name or compute is None:
        print("… Ejercicio 3.2 · una métrica propia: sin hacer todavía (pon un nombre en mi_metrica y escribe calcular_metrica)")
        return plots.metric_timeseries(pd.DataFrame(columns=["ts", "metric", "value"]), name or EXAMPLE_METRIC)
    values = compute(rows)
    series = values if isinstance(values, pd.Series) else pd.Series([values], index=[pd.Timestamp.now(tz="UTC")])
    now = pd.Timestamp.now(tz="UTC")
    samples = []
    for stamp, value in series.items():
        ts = pd.Timestamp(stamp) if isinstance(stamp, (pd.Timestamp, str)) else now
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        if value is not None and np.isfinite(float(value)):
            samples.append(Sample(name, float(value), ts=ts.timestamp()))
    p.monitor.store.write(samples)
    return plots.metric_timeseries(p.metrics(name, minutes=60), name)


# ---- 4 · three alerts --------------------------------------------------------------------------
ALERT_CASES = {  # what each alert is about: scenario, the metric(s) it must watch, the label it must filter on
    "ETH": ("eth_flash_crash", {"price"}, {"coin": "ethereum"}, "la serie price de coin=ethereum"),
    "API": ("api_outage", {"api_error_rate"}, {}, "api_error_rate"),
    "calidad": ("schema_drift", {"data_completeness", "quality_score", "data_accuracy"}, {}, "data_completeness o quality_score"),
}
CLEAN_HOURS = 6


def clean_history(hours: float = CLEAN_HOURS, seed: int = 7) -> pd.DataFrame:
    """A history with no incident at all, every metric of the scenarios at its normal level."""
    base = scenarios.load_scenario("eth_flash_crash")
    return scenarios.render_history(replace(base, name="limpio", incidents=(), duration_s=hours * 3600.0), seed=seed)[0]


def check_alerts(eth: Any, api: Any, quality: Any) -> SelfCheck:
    """Each alert about its subject, detecting its incident in time and precisely, silent on a clean history."""
    check = SelfCheck("Para ir más lejos · tres alertas", todo="define alerta_eth, alerta_api y alerta_calidad")
    given = {"ETH": eth, "API": api, "calidad": quality}
    if all(r is None for r in given.values()):
        check.done = False
        return check
    levels = alerts.load_levels()
    clean = clean_history()
    for case, rule in given.items():
        scenario, metrics, labels, about = ALERT_CASES[case]
        if not check.add(f"{case}: hay una regla", isinstance(rule, alerts.Rule), "usa widgets.design_alert(...)[0] o alerts.Rule(...)"):
            continue
        on_subject = bool(set(rule.metrics) & metrics) and all(rule.labels.get(k) == v for k, v in labels.items())
        if not check.add(f"{case}: vigila {about}", on_subject, f"tu regla mira {'|'.join(rule.metrics)} {dict(rule.labels) or ''}".rstrip()):
            continue
        history, incidents = scenarios.render_history(scenario)
        bt = alerts.backtest([rule], history, incidents.drop_duplicates(["start", "end"]).assign(rule="")).iloc[0]
        limit = levels[rule.severity].response_time_s if rule.severity in levels else 0.0
        delay = bt["mean_delay_s"]
        check.add(f"{case}: detecta su incidente", bt["detected"] == 1, "baja o sube el umbral hasta que la zona sombreada toque el incidente")
        check.add(f"{case}: a tiempo para {rule.severity} (≤ {limit:.0f} s)", not math.isnan(delay) and delay <= limit,
                  f"tarda {delay:.0f} s: usa una ventana o un for_s más corto, o un nivel con más margen")  # fmt: skip
        check.add(f"{case}: precisión ≥ 0,5", bool(bt["precision"] >= 0.5), "dispara demasiado fuera del incidente: umbral más estricto")
        quiet = alerts.episodes(rule, clean)
        check.add(f"{case}: en silencio en {CLEAN_HOURS} h sin incidentes", quiet.empty,
                  f"dispara {len(quiet)} vez/veces sin incidente: una alerta que siempre suena no avisa de nada")  # fmt: skip
    return check
