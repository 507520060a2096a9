"""Block 4's hidden grading cases (instructor's edition only; ``dataops release`` leaves them out).

The learner's edition judges on :mod:`dataops.course.block4`'s formative cases instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dataops.course.block4 import (COINS, _PRICES, _edge, _history, _latencies, _levels, _moving, _poll, _row, _still,
                                   _track)  # fmt: skip


def volatility_cases() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("BTC por encima de su 15 % falla", "el límite de bitcoin es 15 %",
         [(_row("bitcoin", 16.0, 0), True), (_row("bitcoin", 3.0, 1), False), (_row("bitcoin", 14.9, 2), False)]),
        ("las caídas cuentan igual que las subidas (valor absoluto)", "una caída de −16 % en BTC o −31 % en ADA también es extrema",
         [(_row("bitcoin", -16.0, 3), True), (_row("cardano", -31.0, 3), True), (_row("ethereum", -5.0, 3), False)]),
        ("ETH y BNB con su 20 %", "ethereum y binancecoin tienen límite 20 %",
         [(_row("ethereum", 21.0, 4), True), (_row("ethereum", 19.0, 5), False), (_row("binancecoin", 20.5, 4), True),
          (_row("binancecoin", 18.0, 5), False)]),
        ("SOL y ADA tienen límites más altos: 24 % y 29 % no son extremos", "¿usas el límite de cada moneda y no uno para todas?",
         [(_row("solana", 24.0, 6), False), (_row("cardano", 29.0, 6), False), (_row("solana", 26.0, 7), True),
          (_row("cardano", 30.5, 7), True)]),
        ("una moneda fuera de la lista usa el 25 %", "para cualquier otra moneda el límite es 25 %",
         [(_row("dogecoin", 24.0, 8), False), (_row("dogecoin", 24.5, 8), False), (_row("dogecoin", 26.0, 9), True)]),
        ("justo en el límite no es extremo (por encima, no igual)", "usa > y no >=: 15 % en BTC o 30 % en ADA no es extremo",
         [(_row("bitcoin", 15.0, 10), False), (_row("cardano", 30.0, 10), False)]),
        ("sin dato de cambio (null) no es extremo", "un cambio ausente lo vigila el test de completitud, no este",
         [(_row("ethereum", None, 11), False)]),
    ]  # fmt: skip



def market_cap_cases() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("capitalizaciones normales (mucho mayores que el precio) pasan", "una capitalización sana no debe fallar",
         [(_row(c, 1.0, 0), False) for c in COINS]),
        ("capitalización menor que el precio falla", "la capitalización no puede ser menor que el precio",
         [(_row("bitcoin", 1.0, 1, cap=50_000.0), True), (_row("solana", 1.0, 1, cap=10.0), True)]),
        ("capitalización 0 con precio falla", "con precio, la capitalización no puede ser 0",
         [(_row("cardano", 1.0, 2, cap=0.0), True), (_row("ethereum", 1.0, 2, cap=0.0), True)]),
        ("capitalización igual al precio no falla (no es menor)", "usa < y no <=",
         [(_row("binancecoin", 1.0, 3, cap=_PRICES["binancecoin"]), False)]),
        ("sin dato de capitalización (null) no falla aquí", "un null lo vigila el test de completitud: NaN < precio es False",
         [(_row("ethereum", 1.0, 4, cap=np.nan), False)]),
    ]  # fmt: skip



def correlation_cases() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("BTC +12 % y ETH −6 % en el mismo sondeo: anomalía", "BTC sube más de 10 % y ETH baja más de 5 %",
         _poll(0, {"bitcoin": 12.0, "ethereum": -6.0}, True)),
        ("BTC −12 % y ETH +6 %: anomalía también al revés", "mira las dos direcciones",
         _poll(1, {"bitcoin": -12.0, "ethereum": 6.0}, True)),
        ("BTC +12 % y ETH +6 %: se mueven juntas, no es anomalía", "la anomalía es que se muevan en sentidos opuestos",
         _poll(2, {"bitcoin": 12.0, "ethereum": 6.0}, False)),
        ("BTC +8 % y ETH −6 %: BTC no llega al 10 %", "BTC tiene que moverse más de 10 %",
         _poll(3, {"bitcoin": 8.0, "ethereum": -6.0}, False)),
        ("BTC +12 % y ETH −4 %: ETH no llega al 5 %", "ETH tiene que moverse más de 5 % en sentido contrario",
         _poll(4, {"bitcoin": 12.0, "ethereum": -4.0}, False)),
        ("otras monedas no cuentan (SOL +12 %, ADA −6 %)", "compara bitcoin con ethereum, no cualquier par",
         _poll(5, {"solana": 12.0, "cardano": -6.0}, False)),
        ("cada sondeo por separado", "compara BTC y ETH del mismo sondeo (mismo event_time)",
         _poll(6, {"bitcoin": 12.0}, False) + _poll(7, {"ethereum": -6.0}, False)),
        ("justo en el límite no es anomalía (más de 10 % y más de 5 %, no igual)", "usa > y <, no >= ni <=: un 10 % o un 5 % justos no cuentan",
         _poll(8, {"bitcoin": 10.0, "ethereum": -6.0}, False) + _poll(9, {"bitcoin": 12.0, "ethereum": -5.0}, False)
         + _poll(10, {"bitcoin": -10.0, "ethereum": 6.0}, False) + _poll(11, {"bitcoin": -12.0, "ethereum": 5.0}, False)
         + _poll(12, {"bitcoin": 9.5, "ethereum": -6.0}, False) + _poll(13, {"bitcoin": 12.0, "ethereum": -4.5}, False)
         + _poll(14, {"bitcoin": -9.5, "ethereum": 6.0}, False) + _poll(15, {"bitcoin": -12.0, "ethereum": 4.5}, False)),
        ("justo por encima de los límites sí es anomalía", "BTC +10,5 % y ETH −5,5 % ya son más de un 10 % y más de un 5 %",
         _poll(16, {"bitcoin": 10.5, "ethereum": -5.5}, True) + _poll(17, {"bitcoin": -10.5, "ethereum": 5.5}, True)),
        ("caer juntas, o moverse solo una, no es anomalía", "hacen falta las dos: BTC en un sentido y ETH en el contrario",
         _poll(18, {"bitcoin": -12.0, "ethereum": -6.0}, False) + _poll(19, {"ethereum": 6.0}, False) + _poll(20, {"bitcoin": -12.0}, False)),
    ]  # fmt: skip



def frozen_cases() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("BTC congelado 12 min mientras las demás se mueven", "marca la moneda cuyo precio no cambia en 10 min (agrupa por coin_id y ordena por event_time)",
         _still("bitcoin", 0, True, range(0, 721, 30)) + _moving("ethereum", 0, 780) + _moving("solana", 0, 780)),
        ("exactamente 10 min sin cambiar ya es congelado", "usa >= 10 min: de la primera a la última fila de la racha van 10 min justos",
         _still("ethereum", 1, True, range(0, 601, 30)) + _moving("cardano", 1, 660)),
        ("9 min 55 s sin cambiar todavía no", "9 min 55 s no llegan a 10 min: mide de la primera a la última fila con el mismo precio",
         _still("cardano", 2, False, [*range(5, 576, 30), 600]) + _moving("bitcoin", 2, 660)),
        ("rachas cortas de 2 a 4 sondeos iguales son normales", "la API repite el precio mientras dura su caché: unos pocos sondeos iguales no son 10 min",
         _levels("solana", 3, [0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 7])
         + _levels("binancecoin", 3, [i // 4 for i in range(24)]) + _levels("cardano", 3, [i // 2 for i in range(24)])),
        ("cuentan los minutos, no los sondeos", "mide el tiempo con event_time: 3 sondeos en 10 min sí son congelado, 25 sondeos en 8 min no",
         _still("binancecoin", 4, True, [0, 300, 600], step_s=300) + _still("dogecoin", 4, False, range(0, 481, 20), step_s=20)),
        ("un precio que vuelve al mismo valor empieza otra racha", "la racha se corta cuando el precio cambia, aunque luego vuelva al valor de antes",
         _track("ethereum", 5, False, [(s, 0) for s in range(0, 301, 30)] + [(330, 2)] + [(s, 0) for s in range(360, 661, 30)])),
        ("varias monedas a la vez, cada una con su racha", "juzga cada moneda por separado: BTC 15 min y ADA 11 min sí, SOL 6 min no",
         _still("bitcoin", 6, True, range(0, 901, 30)) + _still("cardano", 6, True, range(240, 901, 30))
         + _still("solana", 6, False, range(0, 361, 30)) + _moving("ethereum", 6, 930)),
    ]  # fmt: skip



def outlier_cases() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("un salto de ETH muy por encima de su media es outlier", "compara cada precio con la media y la desviación típica de su moneda",
         _history("ethereum", 1.0, (3560.0, True))),
        ("las caídas cuentan igual que las subidas (valor absoluto)", "un precio muy por debajo de la media también es outlier",
         _history("dogecoin", 0.0005, (0.08, True))),
        ("escalas distintas: media y desviación por moneda", "una media global mezcla BTC (~95 000 USD) con ADA (~0,75 USD): agrupa por coin_id",
         _history("cardano", 0.0002, (_PRICES["cardano"] + 0.01, True))
         + [(_row("bitcoin", 1.0, i, price=_PRICES["bitcoin"] + d), False) for i, d in enumerate([0.0, 100.0, -100.0])]),
        ("justo por debajo de 3 σ (2,98 σ) no es outlier", "el límite es 3 desviaciones típicas, con la .std() de pandas (muestral, ddof=1)",
         _edge("solana", 2.0, 2.9, False)),
        ("justo por encima de 3 σ (3,02 σ) sí es outlier", "más de 3 desviaciones típicas de la media de su moneda es outlier",
         _edge("binancecoin", 4.0, 3.1, True)),
        ("precio constante o una sola fila: no hay outliers", "sin variación (σ = 0 o sin σ) ningún precio se aleja de la media",
         [(_row("tether", 1.0, i, price=1.0), False) for i in range(10)] + [(_row("ripple", 1.0, 0, price=0.5), False)]),
        ("sin precio (null) no es outlier", "un null lo vigila el test de completitud: NaN > 3σ es False",
         [(_row("ethereum", 1.0, 30, price=np.nan), False)]),
    ]  # fmt: skip



def api_health_cases() -> list[tuple[str, str, list[tuple[pd.Series, float, bool]]]]:
    """``(case, hint, [(response times in ms, threshold in ms, healthy?)])``."""
    return [
        ("todo rápido: sana", "con todas las respuestas por debajo del umbral la API está sana", [(_latencies(100, seed=1), 1000, True)]),
        ("3 picos de 30 s entre 100 respuestas: sigue sana", "unos pocos picos no deciden: ni el máximo, ni la media, ni el p99 (mira el p95)",
         [(_latencies(97, 3, 30_000, seed=2), 1000, True)]),
        ("una cola lenta sostenida (10 % a 1,5 s): no sana", "la media, la mediana y el p90 esconden la cola lenta: mira el p95",
         [(_latencies(90, 10, 1500, seed=3), 1000, False)]),
        ("todo lento: no sana", "con todas las respuestas por encima del umbral la API no está sana", [(_latencies(0, 100, 1800), 1000, False)]),
        ("el umbral es el que recibes", "compara con umbral_ms, no con un número fijo (un p95 de 800 ms: no sana con 500, sana con 2000)",
         [(_latencies(90, 10, 800, seed=4), 500, False), (_latencies(90, 10, 800, seed=4), 2000, True)]),
        ("justo en el umbral sigue sana (falla por encima)", "usa <=: un p95 igual al umbral no lo supera; 1 ms más, sí",
         [(_latencies(90, 10, 1000, seed=5), 1000, True), (_latencies(90, 10, 1001, seed=5), 1000, False)]),
        ("los huecos (NaN) no cuentan", "quita los NaN antes del percentil (el .quantile() de pandas ya los ignora)",
         [(_latencies(90, 0, missing=10, seed=6), 1000, True), (_latencies(72, 8, 1500, missing=20, seed=7), 1000, False)]),
        ("sin muestras no está sana", "sin ningún tiempo de respuesta no puedes decir que la API esté sana",
         [(pd.Series([], dtype=float, name="value"), 1000, False)]),
    ]  # fmt: skip

