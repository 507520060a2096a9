"""Block 4's Practice 4: three tests of your own (extreme volatility with per-coin limits,
market-cap consistency, BTC/ETH divergence), each self-checked on labelled cases the learner
does not see. Each case group prints ✔ or ✘ with a hint of the kind of case missed.

A learner's test is a function of the exploded rows that returns the rows that fail: a
boolean Series (True = fails) or a DataFrame of the failing rows.

The block's optional extra challenges (no points) are self-checked the same way: prices frozen
for 10 minutes, outliers beyond 3 standard deviations of their coin, and the API's health from
the p95 of its response times (a function of a series that returns True or False).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from dataops.coins import DEFAULT_COINS
from dataops.course.selfcheck import SelfCheck, run_learner_code
from dataops.pipeline import Pipeline
from dataops.simulator.market import CATALOG

# The exercise sheet's limits of |24 h change| in %; any other coin: DEFAULT_LIMIT.
VOLATILITY_LIMITS = {"bitcoin": 15.0, "ethereum": 20.0, "solana": 25.0, "cardano": 30.0, "binancecoin": 20.0}
DEFAULT_LIMIT = 25.0
COINS: tuple[str, ...] = DEFAULT_COINS  # the pipeline's default coins (dataops.coins)
# Each coin's usual price: the level the simulator's walk reverts to (BTC ~95 000 USD, ADA ~0.75 USD).
_PRICES = {coin: spec.price_usd for coin, spec in CATALOG.items()}


def _row(coin: str, change: float | None = 1.0, poll: int = 0, cap: float | None = None, price: float | None = None) -> dict[str, Any]:
    price = _PRICES.get(coin, 1.0) if price is None else price
    return {"coin_id": coin, "usd": price, "usd_market_cap": price * 2e7 if cap is None else cap, "usd_24h_vol": price * 1e6,
            "usd_24h_change": change, "last_updated_at": 1_767_225_600 + 30 * poll,
            "event_time": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(seconds=30 * poll)}  # fmt: skip


def _frame(groups: list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Rows, whether each should fail, and the case group of each (rows shuffled so order tells nothing)."""
    rows, expected, group = [], [], []
    for label, _hint, cases in groups:
        for row, fails in cases:
            rows.append(row)
            expected.append(fails)
            group.append(label)
    order = np.random.default_rng(7).permutation(len(rows))
    frame = pd.DataFrame(rows).iloc[order]
    frame.index = pd.RangeIndex(len(frame)) * 3 + 100  # an index that is not 0..n-1
    return frame, pd.Series(np.array(expected)[order], index=frame.index), pd.Series(np.array(group)[order], index=frame.index)


def _mask(out: Any, rows: pd.DataFrame) -> pd.Series | None:
    """The learner's answer as a boolean mask over ``rows`` (None when it is neither form)."""
    if isinstance(out, pd.Series) and (out.dtype == bool or str(out.dtype) == "boolean"):
        return out.reindex(rows.index, fill_value=False).fillna(False).astype(bool)
    if isinstance(out, pd.DataFrame):
        return pd.Series(rows.index.isin(out.index), index=rows.index)
    return None


def _judge(check: SelfCheck, fn: Callable, groups: list[tuple[str, str, list[tuple[dict[str, Any], bool]]]],
           key: Callable[[pd.DataFrame], pd.Series] | None = None) -> SelfCheck:  # fmt: skip
    """Run ``fn`` once on every labelled case and judge it group by group.

    Args:
        key: Compare per key (e.g. per poll) instead of per row: a key fails when any of its rows is flagged.
    """
    rows, expected, group = _frame(groups)
    ok, out = run_learner_code(check, "tu función se ejecuta sobre los casos ocultos", fn, rows.copy())
    if not ok:
        return check
    if out is None:  # the stub as handed out: the function body is still empty
        check.items.clear()
        check.done = False
        return check
    mask = _mask(out, rows)
    if mask is None:
        check.add("devuelve las filas que fallan", False, f"devolvió {type(out).__name__}: devuelve una Serie booleana (True = falla) o un DataFrame")
        return check
    if key is not None:
        keys = key(rows)
        mask = keys.map(mask.groupby(keys).any())
        expected = keys.map(expected.groupby(keys).any())
    check.add("no marca todas las filas", not mask.all(), "tu test falla siempre: ¿comparas con el límite?")
    check.add("marca alguna fila", mask.any(), "tu test pasa siempre: no detecta ningún caso")
    hints = {label: hint for label, hint, _ in groups}
    for label in dict.fromkeys(group):
        in_group = group == label
        check.add(label, bool((mask[in_group] == expected[in_group]).all()), hints[label])
    return check


def _exercise(title: str, todo: str, fn: Any, groups: list[tuple[str, str, list[tuple[dict[str, Any], bool]]]],
              key: Callable[[pd.DataFrame], pd.Series] | None = None) -> SelfCheck:  # fmt: skip
    """One Practice 4 exercise: "not done" while ``fn`` is missing, else judged on ``groups``."""
    check = SelfCheck(title, todo=todo)
    if fn is None:
        check.done = False
        return check
    return _judge(check, fn, groups, key)


# ---- 1 · extreme volatility ---------------------------------------------------------------------
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


def check_volatility(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose |usd_24h_change| is above their coin's limit."""
    return _exercise("Práctica 4 · volatilidad extrema", "escribe volatilidad_extrema(filas)", fn, volatility_cases())


# ---- 2 · market-cap consistency ------------------------------------------------------------------
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


def check_market_cap(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose market cap is below the price, or 0 with a price."""
    return _exercise("Práctica 4 · consistencia de la capitalización", "escribe capitalizacion_inconsistente(filas)", fn,
                     market_cap_cases())


# ---- 3 · BTC/ETH divergence -----------------------------------------------------------------------
def _poll(poll: int, changes: dict[str, float], fails: bool) -> list[tuple[dict[str, Any], bool]]:
    """One poll of every coin (1 % unless given); the BTC and ETH rows carry the verdict."""
    return [(_row(c, changes.get(c, 1.0), poll), fails and c in ("bitcoin", "ethereum")) for c in COINS]


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


def check_correlation(fn: Any) -> SelfCheck:
    """``fn(filas)``: the BTC and ETH rows of the polls where they move apart (judged per poll)."""
    return _exercise("Práctica 4 · correlación BTC/ETH", "escribe correlacion_btc_eth(filas)", fn, correlation_cases(),
                     key=lambda rows: rows["event_time"])


# ---- extra challenges (optional, no points) ------------------------------------------------------
_NOON = pd.Timestamp("2026-01-01 12:00", tz="UTC")


def _track(coin: str, day: int, fails: bool, points: list[tuple[int, int]]) -> list[tuple[dict[str, Any], bool]]:
    """``coin``'s rows at ``(second, level)`` of case day ``day``: price = its usual one moved by level ‰.

    Each case group lives on its own day at a price of its own, so no run of equal prices spans two groups.
    """
    rows = []
    for second, level in points:
        when = _NOON + pd.Timedelta(days=day, seconds=second)
        row = _row(coin, 1.0, 0, price=_PRICES.get(coin, 1.0) * (1 + day / 100) * (1 + level / 1000))
        row.update(event_time=when, last_updated_at=int(when.timestamp()))
        rows.append((row, fails))
    return rows


def _moving(coin: str, day: int, end_s: int, step_s: int = 30) -> list[tuple[dict[str, Any], bool]]:
    """A coin whose price changes at every poll from 0 to ``end_s``."""
    return _track(coin, day, False, [(s, i) for i, s in enumerate(range(0, end_s + 1, step_s))])


def _still(coin: str, day: int, fails: bool, seconds: Any, step_s: int = 30) -> list[tuple[dict[str, Any], bool]]:
    """A price that changes one poll before ``seconds``, stays put at every one of them, then changes again."""
    seconds = list(seconds)
    return _track(coin, day, fails, [(seconds[0] - step_s, -1)] + [(s, 0) for s in seconds] + [(seconds[-1] + step_s, 1)])


def _levels(coin: str, day: int, levels: list[int], step_s: int = 30) -> list[tuple[dict[str, Any], bool]]:
    """One poll every ``step_s`` at each price level in turn (repeated levels are short runs)."""
    return _track(coin, day, False, [(i * step_s, level) for i, level in enumerate(levels)])


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


def check_frozen_10min(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows of runs of one price that last 10 min or more of ``event_time`` (judged per coin and case)."""
    return _exercise("Reto extra · precios congelados 10 min", "escribe congelado_10_min(filas)", fn, frozen_cases(),
                     key=lambda rows: rows["coin_id"] + rows["event_time"].dt.strftime("@%Y-%m-%d"))


_WOBBLE = [-9, -7, -5, -3, -1, 1, 3, 5, 7, 9] * 2  # a coin's ordinary history: steps around its usual price
# With a 13th point at +3 steps that point is exactly 3 sample σ from the mean; the cases put it at 2.9 and 3.1
# steps (2.98 σ and 3.02 σ): exact equality is not a fair case in floating point (pandas' grouped std is
# Welford's, off by an ulp one way or the other depending on row order).
_EDGE = [-1, -1, -1] + [0] * 9


def _history(coin: str, step: float, *extra: tuple[float, bool]) -> list[tuple[dict[str, Any], bool]]:
    """``coin``'s ordinary history (its usual price ± a few ``step``), then ``extra`` prices with their verdict."""
    prices = [(_PRICES[coin] + step * w, False) for w in _WOBBLE] + list(extra)
    return [(_row(coin, 1.0, i, price=price), fails) for i, (price, fails) in enumerate(prices)]


def _edge(coin: str, step: float, top: float, fails: bool) -> list[tuple[dict[str, Any], bool]]:
    """12 prices around ``coin``'s usual one and a 13th ``top`` steps above (see ``_EDGE``)."""
    prices = [(_PRICES[coin] + step * e, False) for e in _EDGE] + [(_PRICES[coin] + step * top, fails)]
    return [(_row(coin, 1.0, i, price=price), f) for i, (price, f) in enumerate(prices)]


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


def check_outliers(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose price is more than 3 sample σ from their coin's mean."""
    return _exercise("Reto extra · outliers por moneda", "escribe outliers_precio(filas)", fn, outlier_cases())


def _latencies(fast: int, slow: int = 0, slow_ms: float = 1500.0, missing: int = 0, seed: int = 0) -> pd.Series:
    """Response times in ms, shuffled: ``fast`` between 80 and 300, ``slow`` at ``slow_ms``, ``missing`` NaN."""
    rng = np.random.default_rng(seed)
    values = np.r_[rng.integers(80, 301, fast).astype(float), np.full(slow, float(slow_ms)), np.full(missing, np.nan)]
    return pd.Series(rng.permutation(values), name="value")


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


def check_api_health(fn: Any) -> SelfCheck:
    """``fn(tiempos_ms, umbral_ms)``: True when the p95 of the response times does not exceed the threshold."""
    check = SelfCheck("Reto extra · salud de la API (p95)", todo="escribe api_sana(tiempos_ms, umbral_ms)")
    if fn is None:
        check.done = False
        return check
    groups = api_health_cases()
    answers = []
    for _, _, cases in groups:
        for times, threshold, _ in cases:
            ok, out = run_learner_code(check, "tu función se ejecuta sobre los casos ocultos", fn, times.copy(), threshold)
            if not ok:
                return check
            answers.append(out)
    if all(out is None for out in answers):  # the stub as handed out: the function body is still empty
        check.done = False
        return check
    wrong = [out for out in answers if not isinstance(out, (bool, np.bool_))]
    if wrong:
        check.add("devuelve True o False", False, f"devolvió {type(wrong[0]).__name__}: devuelve True (sana) o False (no sana)")
        return check
    check.add("no dice siempre que está sana", not all(answers), "tu función dice siempre True: ¿comparas el percentil con el umbral?")
    check.add("dice alguna vez que está sana", any(answers), "tu función dice siempre False: no reconoce una API sana")
    got = iter(answers)
    for label, hint, cases in groups:
        verdicts = [bool(next(got)) == healthy for _, _, healthy in cases]
        check.add(label, all(verdicts), hint)
    return check


# ---- fault-driven analysis ----------------------------------------------------------------------
def _window(p: Pipeline, suite: Any, start: float, end: float) -> Any:
    """The suite on the raw polls whose Kafka timestamp falls in [start, end)."""
    from dataops.quality import TimedPoll, run_suite

    latest = p.kafka.latest(p.settings.topic_raw, n=200)
    polls = [TimedPoll(v, int(ts.value // 1_000_000)) for v, ts in zip(latest["value"][::-1], latest["timestamp"][::-1])
             if start <= ts.timestamp() < end]  # fmt: skip
    return run_suite(suite, polls=polls, now=end)


def fault_drill(p: Pipeline, fault: str, suite: Any, duration_s: float = 20.0, **params: Any) -> pd.DataFrame:
    """Inject ``fault`` into the simulator and run the suite on the raw polls before, during and
    after it (``duration_s`` each); one row per check, ✔ / ✘ failing rows / … per phase."""
    import time

    from dataops.quality.report import mark

    start = time.time()
    before = _window(p, suite, start - duration_s, start)
    injected = p.source.inject_fault(fault, duration_s=duration_s, **params)
    time.sleep(duration_s)
    p.source.clear_faults(injected["id"])
    cleared = time.time()
    time.sleep(duration_s)
    phases = {"antes": before, "durante": _window(p, suite, start + 1.0, cleared),
              "después": _window(p, suite, cleared + 1.0, time.time())}  # fmt: skip
    table = {name: {r["check"]: mark(r["status"], r["failing_rows"]) for _, r in rep.results.iterrows()} for name, rep in phases.items()}
    return pd.DataFrame(table).rename_axis(f"fallo {fault}")
