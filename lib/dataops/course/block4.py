"""Block 4's Practice 4: three tests of your own (extreme volatility with per-coin limits,
market-cap consistency, BTC/ETH divergence), each self-checked on labelled cases the learner
does not see. Each case group prints ✔ or ✘ with a hint of the kind of case missed.

A learner's test is a function of the exploded rows that returns the rows that fail: a
boolean Series (True = fails) or a DataFrame of the failing rows.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from dataops.course.selfcheck import SelfCheck, run_learner_code

# The exercise sheet's limits of |24 h change| in %; any other coin: DEFAULT_LIMIT.
VOLATILITY_LIMITS = {"bitcoin": 15.0, "ethereum": 20.0, "solana": 25.0, "cardano": 30.0, "binancecoin": 20.0}
DEFAULT_LIMIT = 25.0
COINS = ("bitcoin", "ethereum", "binancecoin", "cardano", "solana")
_PRICES = {"bitcoin": 65000.0, "ethereum": 3500.0, "binancecoin": 580.0, "cardano": 0.45, "solana": 150.0, "dogecoin": 0.12}


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
         [(_row("dogecoin", 24.0, 8), False), (_row("dogecoin", 26.0, 9), True)]),
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
         [(_row("binancecoin", 1.0, 3, cap=580.0), False)]),
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
    ]  # fmt: skip


def check_correlation(fn: Any) -> SelfCheck:
    """``fn(filas)``: the BTC and ETH rows of the polls where they move apart (judged per poll)."""
    return _exercise("Práctica 4 · correlación BTC/ETH", "escribe correlacion_btc_eth(filas)", fn, correlation_cases(),
                     key=lambda rows: rows["event_time"])


# ---- fault-driven analysis ----------------------------------------------------------------------
def _window(p: Any, suite: Any, start: float, end: float) -> Any:
    """The suite on the raw polls whose Kafka timestamp falls in [start, end)."""
    from dataops.quality import TimedPoll, run_suite

    latest = p.kafka.latest(p.settings.topic_raw, n=200)
    polls = [TimedPoll(v, int(ts.value // 1_000_000)) for v, ts in zip(latest["value"][::-1], latest["timestamp"][::-1])
             if start <= ts.timestamp() < end]  # fmt: skip
    return run_suite(suite, polls=polls, now=end)


def fault_drill(p: Any, fault: str, suite: Any, duration_s: float = 20.0, **params: Any) -> pd.DataFrame:
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
