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
from dataops.course import cases as edition_cases
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
    ok, out = run_learner_code(check, f"tu función se ejecuta sobre {edition_cases.label('block4')}", fn, rows.copy())
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
    check = SelfCheck(title, todo=todo, note=edition_cases.note("block4"))
    if fn is None:
        check.done = False
        return check
    return _judge(check, fn, groups, key)


# ---- 1 · extreme volatility ---------------------------------------------------------------------
def _formative_volatility() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("BTC +18 % supera su 15 %", "bitcoin tiene un límite del 15 %", [(_row("bitcoin", 18.0, 0), True), (_row("bitcoin", 4.0, 1), False)]),
        ("ADA −33 %: una caída también cuenta", "compara el valor absoluto del cambio",
         [(_row("cardano", -33.0, 2), True), (_row("cardano", -12.0, 2), False)]),
        ("SOL +23 % no es extremo (su límite es 25 %), +27,5 % sí", "usa el límite de cada moneda",
         [(_row("solana", 23.0, 3), False), (_row("solana", 27.5, 4), True)]),
    ]  # fmt: skip


def volatility_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "volatility_cases", _formative_volatility)


def check_volatility(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose |usd_24h_change| is above their coin's limit."""
    return _exercise("Práctica 4 · volatilidad extrema", "escribe volatilidad_extrema(filas)", fn, volatility_cases())


# ---- 2 · market-cap consistency ------------------------------------------------------------------
def _formative_market_cap() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("una capitalización sana pasa", "no marques capitalizaciones mucho mayores que el precio",
         [(_row("ethereum", 1.0, 0), False), (_row("cardano", 1.0, 0), False)]),
        ("ETH con capitalización de 1 000 USD falla", "una capitalización por debajo del precio es imposible",
         [(_row("ethereum", 1.0, 1, cap=1_000.0), True)]),
        ("SOL con capitalización 0 falla", "una moneda con precio no puede valer 0 en total", [(_row("solana", 1.0, 2, cap=0.0), True)]),
    ]  # fmt: skip


def market_cap_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "market_cap_cases", _formative_market_cap)


def check_market_cap(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose market cap is below the price, or 0 with a price."""
    return _exercise("Práctica 4 · consistencia de la capitalización", "escribe capitalizacion_inconsistente(filas)", fn,
                     market_cap_cases())


# ---- 3 · BTC/ETH divergence -----------------------------------------------------------------------
def _poll(poll: int, changes: dict[str, float], fails: bool) -> list[tuple[dict[str, Any], bool]]:
    """One poll of every coin (1 % unless given); the BTC and ETH rows carry the verdict."""
    return [(_row(c, changes.get(c, 1.0), poll), fails and c in ("bitcoin", "ethereum")) for c in COINS]


def _formative_correlation() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("BTC +15 % y ETH −8 %: anomalía", "BTC más de un 10 % en un sentido y ETH más de un 5 % en el otro", _poll(0, {"bitcoin": 15.0, "ethereum": -8.0}, True)),
        ("BTC +15 % y ETH +8 %: juntas, no es anomalía", "la anomalía es moverse en sentidos opuestos",
         _poll(1, {"bitcoin": 15.0, "ethereum": 8.0}, False)),
        ("BTC +3 % y ETH −8 %: BTC se mueve poco", "BTC ha de superar el 10 %", _poll(2, {"bitcoin": 3.0, "ethereum": -8.0}, False)),
    ]  # fmt: skip


def correlation_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "correlation_cases", _formative_correlation)


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


def _formative_frozen() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("ETH quieto 14 min mientras BTC se mueve", "marca la moneda cuyo precio no cambia en 10 min o más",
         _still("ethereum", 0, True, range(0, 841, 30)) + _moving("bitcoin", 0, 900)),
        ("3 sondeos iguales seguidos son normales", "unos pocos sondeos con el mismo precio no son 10 min",
         _levels("solana", 1, [0, 0, 0, 1, 2, 3, 3, 4])),
    ]  # fmt: skip


def frozen_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "frozen_cases", _formative_frozen)


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


def _formative_outlier() -> list[tuple[str, str, list[tuple[dict[str, Any], bool]]]]:
    return [
        ("un salto de BTC de 5 000 USD sobre su media es outlier", "mide cada precio contra la media y la σ de su propia moneda",
         _history("bitcoin", 50.0, (_PRICES["bitcoin"] + 5_000.0, True))),
        ("un precio que no se mueve no tiene outliers", "sin variación ningún precio se aleja de la media",
         [(_row("tether", 1.0, i, price=1.0), False) for i in range(6)]),
    ]  # fmt: skip


def outlier_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "outlier_cases", _formative_outlier)


def check_outliers(fn: Any) -> SelfCheck:
    """``fn(filas)``: the rows whose price is more than 3 sample σ from their coin's mean."""
    return _exercise("Reto extra · outliers por moneda", "escribe outliers_precio(filas)", fn, outlier_cases())


def _latencies(fast: int, slow: int = 0, slow_ms: float = 1500.0, missing: int = 0, seed: int = 0) -> pd.Series:
    """Response times in ms, shuffled: ``fast`` between 80 and 300, ``slow`` at ``slow_ms``, ``missing`` NaN."""
    rng = np.random.default_rng(seed)
    values = np.r_[rng.integers(80, 301, fast).astype(float), np.full(slow, float(slow_ms)), np.full(missing, np.nan)]
    return pd.Series(rng.permutation(values), name="value")


def _formative_api_health() -> list[tuple[str, str, list[tuple[pd.Series, float, bool]]]]:
    return [
        ("respuestas rápidas: sana", "con todo por debajo del umbral la API está sana", [(_latencies(50, seed=11), 1000, True)]),
        ("la mitad de las respuestas a 2 s: no sana", "mira el p95 de los tiempos", [(_latencies(50, 50, 2000, seed=12), 1000, False)]),
    ]  # fmt: skip


def api_health_cases() -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """The labelled cases: the hidden ones in the instructor\'s edition, the formative ones in the learner\'s."""
    return edition_cases.pick("block4", "api_health_cases", _formative_api_health)


def check_api_health(fn: Any) -> SelfCheck:
    """``fn(tiempos_ms, umbral_ms)``: True when the p95 of the response times does not exceed the threshold."""
    check = SelfCheck("Reto extra · salud de la API (p95)", todo="escribe api_sana(tiempos_ms, umbral_ms)", note=edition_cases.note("block4"))
    if fn is None:
        check.done = False
        return check
    groups = api_health_cases()
    answers = []
    for _, _, cases in groups:
        for times, threshold, _ in cases:
            ok, out = run_learner_code(check, f"tu función se ejecuta sobre {edition_cases.label('block4')}", fn, times.copy(), threshold)
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


def fault_drill(p: Pipeline, fault: str, suite: Any, duration_s: float = 10.0, **params: Any) -> pd.DataFrame:
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
