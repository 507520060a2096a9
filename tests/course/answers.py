"""Answers to the exercises, kept as test data: the right ones, and known-wrong ones that each
self-check (and so the grader) must reject. The code strings are what a learner would type in
the answer cell of notebooks/learner/02_diseno_dataops.ipynb (keyed by the cell's grade_id).

Each ``*_WRONG`` dict of blocks 2 and 4 has a ``*_FAILS_ON`` twin with the same keys: the self-check
line (a substring of it) that known-wrong answer must get ✘ on, so a check that rejects it for
another reason (or by accident) is caught."""

from __future__ import annotations

import textwrap

import numpy as np

# ---- Exercise 3.1: schema change -----------------------------------------------------------
SCHEMA_RIGHT = {"topico": "crypto-prices-dlq",
                "motivo": "Flink comprueba cada moneda contra el contrato y la que no cumple va a la dead letter queue con su motivo"}
SCHEMA_WRONG = {
    "tópico equivocado": {"topico": "crypto-prices", "motivo": SCHEMA_RIGHT["motivo"]},
    "solo el nombre copiado de la celda de arriba": {"topico": "crypto-prices-dlq", "motivo": "crypto-prices-dlq"},
    "un motivo sin mecanismo": {"topico": "crypto-prices-dlq", "motivo": "porque sí, es lo que pasa siempre en estos casos cuando algo va mal"},
}
SCHEMA_FAILS_ON = {
    "tópico equivocado": "el tópico donde acaban los sondeos",
    "solo el nombre copiado de la celda de arriba": "el motivo, con tus palabras (8 palabras o más)",
    "un motivo sin mecanismo": "el motivo nombra el mecanismo",
}


# ---- Exercise 3.2: frozen prices ------------------------------------------------------------
def frozen_right(rows):
    rows = rows.sort_values(["coin_id", "ts"])
    same = rows.groupby("coin_id")["usd"].diff().eq(0)
    run = same.groupby([rows["coin_id"], (~same).groupby(rows["coin_id"]).cumsum()]).cumsum()
    return set(rows.loc[run >= 4, "coin_id"])


def frozen_flags_every_coin(rows):
    return set(rows["coin_id"])


def frozen_ignores_run_length(rows):  # any two equal prices in a row
    rows = rows.sort_values(["coin_id", "ts"])
    return set(rows.loc[rows.groupby("coin_id")["usd"].diff().eq(0), "coin_id"])


def frozen_first_coin_only(rows):
    first = rows["coin_id"].iloc[0]
    return {c for c in frozen_right(rows[rows["coin_id"] == first])}


def frozen_never(rows):
    return set()


FROZEN_WRONG = {
    "marca todas las monedas": frozen_flags_every_coin,
    "ignora la longitud de la racha": frozen_ignores_run_length,
    "solo mira la primera moneda": frozen_first_coin_only,
    "nunca detecta nada": frozen_never,
}
FROZEN_FAILS_ON = {
    "marca todas las monedas": "mercado normal: nada congelado",
    "ignora la longitud de la racha": "rachas de 2, 3 y 4 precios iguales no son congelación",
    "solo mira la primera moneda": "solana congelada 6 muestras mientras las demás se mueven",
    "nunca detecta nada": "una racha de exactamente 5 cuenta",
}


# ---- Exercise 3.3: a metric of your own -------------------------------------------------------
def metric_right(rows):
    return rows.groupby("event_time")["usd_24h_change"].std().dropna()


METRIC_WRONG = {
    "el ejemplo copiado": ("spread_btc_eth", metric_right),
    "una métrica que el monitor ya mide": ("throughput", metric_right),
    "un valor constante": ("mi_constante", lambda rows: 42.0),
    "no es un número": ("mi_texto", lambda rows: "alto"),
}
METRIC_FAILS_ON = {
    "el ejemplo copiado": "una métrica nueva, no una que el monitor ya mide ni el ejemplo",
    "una métrica que el monitor ya mide": "una métrica nueva, no una que el monitor ya mide ni el ejemplo",
    "un valor constante": "su valor depende de los datos",
    "no es un número": "devuelve números",
}


# ---- Exercise 4: three alerts (code, run where hist_* exist) ----------------------------------
ALERTS_RIGHT = textwrap.dedent("""
    alerta_eth = widgets.design_alert(hist_eth, "price", 3000, "<", severity="HIGH", labels={"coin": "ethereum"}, name="eth")[0]
    alerta_api = widgets.design_alert(hist_api, "api_error_rate", 5, ">", window_s=60, severity="CRITICAL", name="api")[0]
    alerta_calidad = widgets.design_alert(hist_cal, "data_completeness", 80, "<", for_s=30, severity="HIGH", name="calidad")[0]
""")
ALERTS_WRONG = {
    "una alerta de ETH que siempre suena": ALERTS_RIGHT.replace('"price", 3000, "<"', '"price", 0, ">"'),
    "la alerta de ETH mira bitcoin": ALERTS_RIGHT.replace('labels={"coin": "ethereum"}', 'labels={"coin": "bitcoin"}'),
    "la alerta de la API mira la latencia": ALERTS_RIGHT.replace('"api_error_rate", 5, ">"', '"api_response_time", 100, ">"'),
    "falta una alerta": ALERTS_RIGHT.replace('alerta_calidad = widgets.design_alert(hist_cal, "data_completeness", 80, "<", for_s=30, severity="HIGH", name="calidad")[0]', "alerta_calidad = None"),
}
ALERTS_FAILS_ON = {
    "una alerta de ETH que siempre suena": "ETH: en silencio en 6 h sin incidentes",
    "la alerta de ETH mira bitcoin": "ETH: vigila la serie price de coin=ethereum",
    "la alerta de la API mira la latencia": "API: vigila api_error_rate",
    "falta una alerta": "calidad: hay una regla",
}

# ---- A submission with one known-wrong answer per exercise (for the grader) -------------------
WRONG_SUBMISSION = {
    "respuesta_1": f"respuesta_1 = {SCHEMA_WRONG['solo el nombre copiado de la celda de arriba']!r}",
    "detectar_congelados": "def detectar_congelados(rows):\n    return set(rows['coin_id'])",
    "mi_metrica": "mi_metrica = 'spread_btc_eth'\ndef calcular_metrica(filas):\n    return filas['usd'].mean()",
    "alertas": ALERTS_WRONG["una alerta de ETH que siempre suena"],
}


# ---- Block 3, practice 2: the automation extended (YAML typed into mi_extension) -------------
EXTENSION_RIGHT = """
topics:
  - name: crypto-alerts
    partitions: 1
    config: {retention.ms: "86400000", cleanup.policy: delete}
preflight:
  - {name: api-precios-responde, kind: http, url: "${source_api_url}/ping"}
validation:
  - {name: mensajes-fluyen, kind: topic_flowing, topic: "${topic_exploded}", within_s: 30}
"""
# wrong answer → the self-check line that must get ✘
EXTENSION_WRONG = {
    "tres particiones": (EXTENSION_RIGHT.replace("partitions: 1", "partitions: 3"), "con 1 partición"),
    "retención de 7 días": (EXTENSION_RIGHT.replace('"86400000"', '"604800000"'), "retención de 1 día"),
    "política compact": (EXTENSION_RIGHT.replace("cleanup.policy: delete", "cleanup.policy: compact"), "política de borrado"),
    "un chequeo previo que solo mira el puerto": (
        EXTENSION_RIGHT.replace('{name: api-precios-responde, kind: http, url: "${source_api_url}/ping"}',
                                '{name: puerto-abierto, kind: tcp, host: "${host}", port: "${simulator_port}"}'),
        "falla con la API caída"),
    "un chequeo previo al panel de control del simulador": (
        EXTENSION_RIGHT.replace("${source_api_url}/ping", "${simulator_url}/_sim/health"), "falla con la API caída"),
    "sin chequeo de flujo": (EXTENSION_RIGHT.split("validation:")[0], "fluyen de punta a punta"),
    "flujo sobre un tópico sin tráfico": (EXTENSION_RIGHT.replace('topic: "${topic_exploded}"', "topic: crypto-alerts"), "fluyen de punta a punta"),
    "flujo sobre el tópico crudo (antes de Flink)": (EXTENSION_RIGHT.replace("${topic_exploded}", "${topic_raw}"), "fluyen de punta a punta"),
}


# ---- Block 4, practice 4: tests of your own (functions of the exploded rows) -------------------
_LIMITS = {"bitcoin": 15, "ethereum": 20, "solana": 25, "cardano": 30, "binancecoin": 20}


def volatility_right(filas):
    limite = filas["coin_id"].map(_LIMITS).fillna(25)
    return filas["usd_24h_change"].abs() > limite


def market_cap_right(filas):
    cap, precio = filas["usd_market_cap"], filas["usd"]
    return (cap < precio) | ((cap == 0) & (precio > 0))


def correlation_right(filas):
    cambios = filas.pivot_table(index="event_time", columns="coin_id", values="usd_24h_change")
    btc, eth = cambios["bitcoin"], cambios["ethereum"]
    raros = cambios.index[((btc > 10) & (eth < -5)) | ((btc < -10) & (eth > 5))]
    return filas["event_time"].isin(raros) & filas["coin_id"].isin(["bitcoin", "ethereum"])


def _always(value):
    return lambda filas: filas["coin_id"].map(lambda _: value).astype(bool)


def _first_coin_only(right):
    def fn(filas):
        first = filas["coin_id"].iloc[0]
        return right(filas) & (filas["coin_id"] == first)
    return fn


VOLATILITY_WRONG = {
    "siempre pasa": _always(False),
    "siempre falla": _always(True),
    "un 20 % para todas las monedas": lambda filas: filas["usd_24h_change"].abs() > 20,
    "solo mira la primera moneda": _first_coin_only(volatility_right),
    "olvida las caídas (sin valor absoluto)": lambda filas: filas["usd_24h_change"] > filas["coin_id"].map(_LIMITS).fillna(25),
    "el límite incluido (>=)": lambda filas: filas["usd_24h_change"].abs() >= filas["coin_id"].map(_LIMITS).fillna(25),
    "devuelve un número": lambda filas: 3,
    "lanza una excepción": lambda filas: filas["cambio_24h"],
}
VOLATILITY_FAILS_ON = {
    "siempre pasa": "marca alguna fila",
    "siempre falla": "no marca todas las filas",
    "un 20 % para todas las monedas": "SOL y ADA tienen límites más altos",
    "solo mira la primera moneda": "ETH y BNB con su 20 %",
    "olvida las caídas (sin valor absoluto)": "las caídas cuentan igual que las subidas",
    "el límite incluido (>=)": "justo en el límite no es extremo",
    "devuelve un número": "devuelve las filas que fallan",
    "lanza una excepción": "tu función se ejecuta sobre los casos ocultos",
}
MARKET_CAP_WRONG = {
    "siempre pasa": _always(False),
    "siempre falla": _always(True),
    "marca los nulls": lambda filas: ~(filas["usd_market_cap"] >= filas["usd"]),
    "usa <= (el caso igual falla)": lambda filas: filas["usd_market_cap"] <= filas["usd"],
    "solo mira la primera moneda": _first_coin_only(market_cap_right),
}
MARKET_CAP_FAILS_ON = {
    "siempre pasa": "marca alguna fila",
    "siempre falla": "no marca todas las filas",
    "marca los nulls": "sin dato de capitalización (null) no falla aquí",
    "usa <= (el caso igual falla)": "capitalización igual al precio no falla",
    "solo mira la primera moneda": "capitalización 0 con precio falla",
}
CORRELATION_WRONG = {
    "siempre pasa": _always(False),
    "solo una dirección": lambda filas: correlation_right(filas) & (
        filas.groupby("event_time")["usd_24h_change"].transform("max") > 10),
    "ignora ETH": lambda filas: (filas["coin_id"] == "bitcoin") & (filas["usd_24h_change"].abs() > 10),
    "cualquier par de monedas": lambda filas: filas["event_time"].isin(
        filas.groupby("event_time")["usd_24h_change"].agg(lambda s: s.max() > 10 and s.min() < -5).pipe(lambda s: s[s].index)),
}
CORRELATION_FAILS_ON = {
    "siempre pasa": "marca alguna fila",
    "solo una dirección": "anomalía también al revés",
    "ignora ETH": "ETH no llega al 5 %",
    "cualquier par de monedas": "otras monedas no cuentan",
}

# ---- Block 4, extra challenges (optional, no points) ------------------------------------------
def frozen_10min_right(filas):
    filas = filas.sort_values(["coin_id", "event_time"])
    racha = filas["usd"].ne(filas.groupby("coin_id")["usd"].shift()).cumsum()
    tiempo = filas.groupby(racha)["event_time"]
    return (tiempo.transform("max") - tiempo.transform("min")).dt.total_seconds() >= 600


def _frozen_runs(filas, sort=("coin_id", "event_time"), by_coin=True):
    filas = filas.sort_values(list(sort)) if sort else filas
    previo = filas.groupby("coin_id")["usd"].shift() if by_coin else filas["usd"].shift()
    return filas, filas["usd"].ne(previo).cumsum()


def _frozen_minutes(filas, runs, op=">="):
    tiempo = filas.groupby(runs)["event_time"]
    span = (tiempo.transform("max") - tiempo.transform("min")).dt.total_seconds()
    return span >= 600 if op == ">=" else span > 600


def _frozen_polls(filas, n):
    filas, runs = _frozen_runs(filas)
    return filas.groupby(runs)["usd"].transform("size") >= n


def _frozen_by_price(filas):  # one "run" per coin and price, however many changes in between
    tiempo = filas.groupby(["coin_id", "usd"])["event_time"]
    return (tiempo.transform("max") - tiempo.transform("min")).dt.total_seconds() >= 600


FROZEN_10MIN_WRONG = {
    "siempre pasa": _always(False),
    "siempre falla": _always(True),
    "cuenta 21 sondeos en vez de 10 minutos": lambda filas: _frozen_polls(filas, 21),
    "cualquier repetición es congelado": lambda filas: _frozen_polls(filas, 2),
    "agrupa por precio y no por racha": _frozen_by_price,
    "no ordena por event_time": lambda filas: _frozen_minutes(*_frozen_runs(filas, sort=None)),
    "no agrupa por moneda": lambda filas: _frozen_minutes(*_frozen_runs(filas, sort=("event_time",), by_coin=False)),
    "más de 10 min (>)": lambda filas: _frozen_minutes(*_frozen_runs(filas), op=">"),
    "solo mira la primera moneda": _first_coin_only(frozen_10min_right),
}
FROZEN_10MIN_FAILS_ON = {
    "siempre pasa": "marca alguna fila",
    "siempre falla": "no marca todas las filas",
    "cuenta 21 sondeos en vez de 10 minutos": "cuentan los minutos, no los sondeos",
    "cualquier repetición es congelado": "rachas cortas de 2 a 4 sondeos iguales son normales",
    "agrupa por precio y no por racha": "un precio que vuelve al mismo valor empieza otra racha",
    "no ordena por event_time": "BTC congelado 12 min mientras las demás se mueven",
    "no agrupa por moneda": "varias monedas a la vez, cada una con su racha",
    "más de 10 min (>)": "exactamente 10 min sin cambiar ya es congelado",
    "solo mira la primera moneda": "varias monedas a la vez, cada una con su racha",
}


def outliers_right(filas):
    precio = filas.groupby("coin_id")["usd"]
    return (filas["usd"] - precio.transform("mean")).abs() > 3 * precio.transform("std")


def _outliers(filas, k=3, ddof=1, absolute=True):
    precio = filas.groupby("coin_id")["usd"]
    dev = filas["usd"] - precio.transform("mean")
    return (dev.abs() if absolute else dev) > k * precio.transform(lambda s: s.std(ddof=ddof))


OUTLIERS_WRONG = {
    "siempre pasa": _always(False),
    "siempre falla": _always(True),
    "media y desviación globales": lambda filas: (filas["usd"] - filas["usd"].mean()).abs() > 3 * filas["usd"].std(),
    "solo mira la primera moneda": _first_coin_only(outliers_right),
    "olvida las caídas (sin valor absoluto)": lambda filas: _outliers(filas, absolute=False),
    "desviación poblacional (ddof=0)": lambda filas: _outliers(filas, ddof=0),
    "2 desviaciones en vez de 3": lambda filas: _outliers(filas, k=2),
    "marca los nulls": lambda filas: ~((filas["usd"] - filas.groupby("coin_id")["usd"].transform("mean")).abs()
                                       <= 3 * filas.groupby("coin_id")["usd"].transform("std")),
    "devuelve un número": lambda filas: 3,
}
OUTLIERS_FAILS_ON = {
    "siempre pasa": "marca alguna fila",
    "siempre falla": "no marca todas las filas",
    "media y desviación globales": "escalas distintas: media y desviación por moneda",
    "solo mira la primera moneda": "las caídas cuentan igual que las subidas",
    "olvida las caídas (sin valor absoluto)": "las caídas cuentan igual que las subidas",
    "desviación poblacional (ddof=0)": "justo por debajo de 3 σ (2,98 σ) no es outlier",
    "2 desviaciones en vez de 3": "justo por debajo de 3 σ (2,98 σ) no es outlier",
    "marca los nulls": "sin precio (null) no es outlier",
    "devuelve un número": "devuelve las filas que fallan",
}


def api_health_right(tiempos_ms, umbral_ms):
    return bool(tiempos_ms.quantile(0.95) <= umbral_ms)


API_HEALTH_WRONG = {
    "siempre sana": lambda tiempos_ms, umbral_ms: True,
    "nunca sana": lambda tiempos_ms, umbral_ms: False,
    "mira la media": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.mean() <= umbral_ms),
    "mira el máximo": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.max() <= umbral_ms),
    "mira la mediana": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.median() <= umbral_ms),
    "mira el p90": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.quantile(0.90) <= umbral_ms),
    "mira el p99": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.quantile(0.99) <= umbral_ms),
    "umbral fijo de 1000 ms": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.quantile(0.95) <= 1000),
    "p95 < umbral (el igual no es sana)": lambda tiempos_ms, umbral_ms: bool(tiempos_ms.quantile(0.95) < umbral_ms),
    "np.percentile con los NaN": lambda tiempos_ms, umbral_ms: bool(np.percentile(tiempos_ms, 95) <= umbral_ms),
    "devuelve el p95": lambda tiempos_ms, umbral_ms: tiempos_ms.quantile(0.95),
    "solo responde cuando está sana": lambda tiempos_ms, umbral_ms: True if tiempos_ms.quantile(0.95) <= umbral_ms else None,
}
API_HEALTH_FAILS_ON = {
    "siempre sana": "no dice siempre que está sana",
    "nunca sana": "dice alguna vez que está sana",
    "mira la media": "una cola lenta sostenida",
    "mira el máximo": "3 picos de 30 s entre 100 respuestas",
    "mira la mediana": "una cola lenta sostenida",
    "mira el p90": "una cola lenta sostenida",
    "mira el p99": "3 picos de 30 s entre 100 respuestas",
    "umbral fijo de 1000 ms": "el umbral es el que recibes",
    "p95 < umbral (el igual no es sana)": "justo en el umbral sigue sana",
    "np.percentile con los NaN": "tu función se ejecuta sobre los casos ocultos",  # no samples: np.percentile raises
    "devuelve el p95": "devuelve True o False",
    "solo responde cuando está sana": "devuelve True o False",
}

# ---- block 5 · Practice 6: the Ethereum alerts ------------------------------------------------
ETH_RULES_RIGHT = """
- name: ETH_PRICE_HIGH
  metric: price
  labels: {coin: ethereum}
  condition: threshold
  op: ">"
  value: 5000
  severity: MEDIUM
  description: Ethereum por encima de 5.000 USD
- name: ETH_CRASH
  metric: price_change_24h
  labels: {coin: ethereum}
  condition: threshold
  op: "<"
  value: -15
  severity: HIGH
  description: Ethereum cae más de un 15 % en 24 h
"""


def _eth(old: str, new: str) -> str:
    assert old in ETH_RULES_RIGHT, old
    return ETH_RULES_RIGHT.replace(old, new, 1)


# known-wrong answer -> a check (substring) it must fail
ETH_RULES_WRONG = {
    "siempre dispara (precio > 0)": (_eth("value: 5000", "value: 0"), "ETH_PRICE_HIGH: en silencio 24 h"),
    "sin etiqueta de moneda": (_eth("price\n  labels: {coin: ethereum}\n", "price\n"), "ETH_PRICE_HIGH: solo ethereum"),
    "la caída de otra moneda": (_eth("price_change_24h\n  labels: {coin: ethereum}", "price_change_24h\n  labels: {coin: bitcoin}"),
                                "ETH_CRASH: dispara cuando"),
    "nivel equivocado": (_eth("severity: MEDIUM", "severity: HIGH"), "ETH_PRICE_HIGH: nivel MEDIUM"),
    "umbral de caída demasiado flojo (−10 %)": (_eth("value: -15", "value: -10"), "ETH_CRASH: en silencio cuando ETH en ~4.850"),
    "umbral de precio demasiado bajo (4.000)": (_eth("value: 5000", "value: 4000"), "ETH_PRICE_HIGH: en silencio cuando ETH en ~4.850"),
    "dirección al revés (precio < 5.000)": (_eth('op: ">"', 'op: "<"'), "ETH_PRICE_HIGH: en silencio 24 h"),
    "la caída mirada en el precio": (_eth("metric: price_change_24h", "metric: price"), "ETH_CRASH: dispara cuando"),
    "falta ETH_CRASH": (ETH_RULES_RIGHT.split("- name: ETH_CRASH")[0], "ETH_CRASH: existe"),
    "YAML roto": (ETH_RULES_RIGHT.replace("labels: {coin: ethereum}", "labels: {coin: ethereum", 1), "tus reglas se leen"),
}

# ---- block 6 · Practice 7: the workflow ------------------------------------------------------------
WORKFLOW_RIGHT = """
name: dataops
on:
  push:
  pull_request:
jobs:
  data-quality:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v6
      - run: make venv
      - run: .venv/bin/dataops quality --samples --min-success 100
  deploy:
    needs: data-quality
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v6
      - run: make up && .venv/bin/dataops pipeline apply
"""


def _wf(old: str, new: str) -> str:
    assert old in WORKFLOW_RIGHT, old
    return WORKFLOW_RIGHT.replace(old, new, 1)


# known-wrong workflow -> a check (substring) it must fail
WORKFLOW_WRONG = {
    "deploy sin esperar a los tests": (_wf("    needs: data-quality\n", ""), "deploy espera a todos los tests"),
    "deploy en cada rama": (_wf("    if: github.ref == 'refs/heads/main'\n", ""), "deploy solo en main"),
    "deploy en otra rama": (_wf("refs/heads/main", "refs/heads/develop"), "deploy solo en main"),
    "solo en push": (_wf("  pull_request:\n", ""), "push y en pull request"),
    "sin test de calidad": (_wf("quality --samples --min-success 100", "check-config"), "prueba la calidad"),
    "sin deploy": (WORKFLOW_RIGHT.split("  deploy:")[0], "un job despliega"),
    "job sin runs-on (no pasa el linter)": (_wf("  data-quality:\n    runs-on: ubuntu-24.04\n", "  data-quality:\n"), "pasa el linter"),
    "deploy también en pull requests": (_wf("refs/heads/main'", "refs/heads/main' || github.event_name == 'pull_request'"), "deploy solo en main"),
    "deploy en toda rama que contenga main": (_wf("github.ref == 'refs/heads/main'", "contains(github.ref, 'main')"), "deploy solo en main"),
    "sin checkout en data-quality": (_wf("    steps:\n      - uses: actions/checkout@v6\n      - run: make venv", "    steps:\n      - run: make venv"),
                                     "descarga el código y crea el entorno"),
    "sin make venv": (_wf("      - run: make venv\n", ""), "descarga el código y crea el entorno"),
}
# the same right workflow, with other valid ways of saying "main only"
WORKFLOW_RIGHT_VARIANTS = {
    "github.ref_name": _wf("github.ref == 'refs/heads/main'", "github.ref_name == 'main'"),
    "entre ${{ }}": _wf("github.ref == 'refs/heads/main'", "${{ github.ref == 'refs/heads/main' }}"),
    "solo en push a main": _wf("github.ref == 'refs/heads/main'", "github.event_name == 'push' && github.ref_name == 'main'"),
}


# ---- block 5 · Practice 5: the live dashboard ------------------------------------------------------
# What a learner types in the answer cell; ``start_monitoring`` is ``dataops.start_monitoring`` in the
# notebook (tests/unit/test_block5_known_wrong.py runs it offline with a stand-in over a metrics store).
_TOPICS = '["crypto-prices", "crypto-prices-exploded"]'
DASHBOARD_RIGHT = f"monitor = start_monitoring({_TOPICS})"
# known-wrong answer -> the self-check line it must get ✘ on
DASHBOARD_WRONG = {
    "solo un tópico": ('monitor = start_monitoring(["crypto-prices"])', "vigila crypto-prices y crypto-prices-exploded"),
    "un tópico mal escrito": ('monitor = start_monitoring(["crypto-prices", "crypto-price-exploded"])',
                              "vigila crypto-prices y crypto-prices-exploded"),
    "sin panel (dashboard=False)": (f"monitor = start_monitoring({_TOPICS}, dashboard=False)", "hay un panel en vivo"),
    "el lector de métricas en vez del monitor": ("monitor = p.monitor", "hay un panel en vivo"),
    "lo para en la misma celda": (f"monitor = start_monitoring({_TOPICS})\nmonitor.stop()", "se actualiza solo"),
}

# ---- block 5 · Practice 6 live: the drill (block5.eth_drill) ---------------------------------------
# known-wrong rules -> the drill's line they must get ✘ on (the hidden histories catch more of them:
# ETH_RULES_WRONG; these are the ones the live drill itself must catch)
DRILL_WRONG = {
    "YAML roto": (ETH_RULES_WRONG["YAML roto"][0], "tus reglas se leen"),
    "falta ETH_CRASH": (ETH_RULES_WRONG["falta ETH_CRASH"][0], "ETH_CRASH: existe"),
    "la caída de otra moneda": (ETH_RULES_WRONG["la caída de otra moneda"][0], "ETH_CRASH: dispara en vivo"),
    "la caída mirada en el precio": (ETH_RULES_WRONG["la caída mirada en el precio"][0], "ETH_CRASH: dispara en vivo"),
    "siempre dispara (precio > 0)": (ETH_RULES_WRONG["siempre dispara (precio > 0)"][0], "ETH_PRICE_HIGH: se resuelve al quitar el fallo"),
    "dirección al revés (precio < 5.000)": (ETH_RULES_WRONG["dirección al revés (precio < 5.000)"][0],
                                            "ETH_PRICE_HIGH: se resuelve al quitar el fallo"),
    "nivel LOW: no llega a Slack": (_eth("severity: MEDIUM", "severity: LOW"), "ETH_PRICE_HIGH: llega a Slack"),
}
