"""The simulator's market model: a coin catalog and a seeded random walk per coin.

Every coin follows a mean-reverting random walk of its log price on a shared
tick grid (``tick = floor(unix_time / refresh_s)``); the same seed and the same
clock give the same prices. A :class:`Quote` is one coin's price snapshot.
"""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass

from dataops.coins import DEFAULT_COINS
from dataops.errors import DataOpsError, UnknownCoinError

__all__ = [
    "CATALOG",
    "DEFAULT_COINS",
    "KNOWN_COINS",
    "RATES",
    "CoinSpec",
    "Market",
    "Quote",
    "select_coins",
    "split_csv",
]


@dataclass(frozen=True)
class CoinSpec:
    """Static description of a coin the market model can simulate.

    Attributes:
        coin_id: CoinGecko id (``bitcoin``).
        symbol: Ticker symbol.
        price_usd: Long-run price level the walk reverts to.
        supply: Circulating supply (market cap = price x supply).
        daily_vol: Standard deviation of daily log returns.
        volume_ratio: Typical 24h volume as a fraction of the market cap.
    """

    coin_id: str
    symbol: str
    price_usd: float
    supply: float
    daily_vol: float
    volume_ratio: float


CATALOG: dict[str, CoinSpec] = {
    spec.coin_id: spec
    for spec in (
        CoinSpec("bitcoin", "btc", 95_000.0, 19.8e6, 0.030, 0.030),
        CoinSpec("ethereum", "eth", 3_500.0, 120.5e6, 0.040, 0.060),
        CoinSpec("binancecoin", "bnb", 650.0, 145e6, 0.035, 0.020),
        CoinSpec("cardano", "ada", 0.75, 35.5e9, 0.050, 0.040),
        CoinSpec("solana", "sol", 180.0, 470e6, 0.055, 0.050),
        CoinSpec("ripple", "xrp", 2.30, 57e9, 0.050, 0.050),
        CoinSpec("dogecoin", "doge", 0.32, 147e9, 0.060, 0.060),
        CoinSpec("polkadot", "dot", 6.50, 1.5e9, 0.055, 0.040),
        CoinSpec("litecoin", "ltc", 100.0, 75e6, 0.045, 0.060),
        CoinSpec("chainlink", "link", 18.0, 630e6, 0.055, 0.050),
    )
}
KNOWN_COINS: tuple[str, ...] = tuple(CATALOG)
# DEFAULT_COINS (served when no coins are asked for) is defined once, in dataops.coins.

# Units of currency per 1 USD; fixed so every currency moves exactly like usd.
RATES: dict[str, float] = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "jpy": 151.5}

SECONDS_PER_DAY = 86_400
# Half-life of a deviation from the long-run level: the walk wanders a few
# percent per day yet stays near realistic levels for weeks.
HALF_LIFE_DAYS = 5.0
VOLUME_NOISE = 0.15  # stationary std of the log volume factor
VOLUME_CORRELATION_S = 3_600.0
# Beyond this many missed ticks the walk jumps (exact OU transition) instead of stepping.
MAX_CATCHUP_TICKS = 20_000


def split_csv(raw: str) -> list[str]:
    """Comma-separated values, stripped, lower-cased, de-duplicated, order kept."""
    seen: dict[str, None] = {}
    for item in raw.split(","):
        item = item.strip().lower()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def select_coins(coins: list[str] | None) -> list[str]:
    """The coin ids to serve (default :data:`DEFAULT_COINS`), checked against the catalog.

    Raises:
        UnknownCoinError: A coin id is not in the catalog.
        DataOpsError: No coin is left.
    """
    wanted = list(DEFAULT_COINS) if coins is None else split_csv(",".join(coins))
    unknown = [c for c in wanted if c not in CATALOG]
    if unknown:
        raise UnknownCoinError(
            f"monedas desconocidas: {', '.join(unknown)}",
            f"elige entre {', '.join(KNOWN_COINS)}",
        )
    if not wanted:
        raise DataOpsError("el simulador necesita al menos una moneda", f"elige entre {', '.join(KNOWN_COINS)}")
    return wanted


@dataclass(frozen=True)
class Quote:
    """One coin's price snapshot, in USD."""

    price_usd: float
    volume_usd: float
    change_pct: float
    updated_at: int


class CoinWalk:
    """Mean-reverting random walk of one coin's log price (discrete OU process)."""

    def __init__(self, spec: CoinSpec, seed: int, refresh_s: float, tick: int) -> None:
        self.spec = spec
        self.refresh_s = refresh_s
        # String seeds are hashed deterministically (not PYTHONHASHSEED-dependent).
        self.rng = random.Random(f"{seed}:{spec.coin_id}")
        ticks_per_day = SECONDS_PER_DAY / refresh_s
        self.mu = math.log(spec.price_usd)
        self.a = math.exp(-math.log(2) / (HALF_LIFE_DAYS * ticks_per_day))
        self.sigma = spec.daily_vol * math.sqrt(refresh_s / SECONDS_PER_DAY)
        self.b = math.exp(-refresh_s / VOLUME_CORRELATION_S)
        self.vol_sigma = VOLUME_NOISE * math.sqrt(1.0 - self.b * self.b)
        self.x = self.mu + self.rng.gauss(0.0, spec.daily_vol)
        self.v = self.rng.gauss(0.0, VOLUME_NOISE)
        # Ring buffer of the last day of prices, for the 24h change.
        self.size = max(1, round(ticks_per_day)) + 1
        self.history = array("d", bytes(8 * self.size))
        self.count = 0
        self.tick = tick
        self._store()

    def _store(self) -> None:
        self.history[self.tick % self.size] = math.exp(self.x)
        self.count = min(self.count + 1, self.size)

    def step(self, n: int) -> None:
        """Advance ``n`` ticks one by one (keeps the 24h history exact)."""
        x, v, t = self.x, self.v, self.tick
        a, mu, s, b, sv = self.a, self.mu, self.sigma, self.b, self.vol_sigma
        gauss, hist, size, exp = self.rng.gauss, self.history, self.size, math.exp
        for _ in range(n):
            x = mu + a * (x - mu) + s * gauss(0.0, 1.0)
            v = b * v + sv * gauss(0.0, 1.0)
            t += 1
            hist[t % size] = exp(x)
        self.x, self.v, self.tick = x, v, t
        self.count = min(self.count + n, self.size)

    def jump(self, n: int) -> None:
        """Advance ``n`` ticks with one exact draw; the 24h history restarts."""
        an, bn = self.a**n, self.b**n
        spread = self.sigma * math.sqrt((1.0 - an * an) / (1.0 - self.a * self.a))
        self.x = self.mu + an * (self.x - self.mu) + spread * self.rng.gauss(0.0, 1.0)
        self.v = bn * self.v + VOLUME_NOISE * math.sqrt(1.0 - bn * bn) * self.rng.gauss(0.0, 1.0)
        self.tick += n
        self.count = 0
        self._store()

    def quote(self) -> Quote:
        price = self.history[self.tick % self.size]
        # Oldest stored price: exactly one day of ticks back once the buffer is full.
        reference = self.history[(self.tick - self.count + 1) % self.size]
        market_cap = price * self.spec.supply
        return Quote(
            price_usd=price,
            volume_usd=market_cap * self.spec.volume_ratio * math.exp(self.v),
            change_pct=(price / reference - 1.0) * 100.0,
            updated_at=int(self.tick * self.refresh_s),
        )


class Market:
    """All coin walks on one shared tick grid (tick = floor(unix_time / refresh_s))."""

    def __init__(self, coins: list[str], seed: int, refresh_s: float, now: float) -> None:
        self.refresh_s = refresh_s
        self.tick = math.floor(now / refresh_s)
        self.walks = {c: CoinWalk(CATALOG[c], seed, refresh_s, self.tick) for c in coins}

    def advance(self, now: float) -> None:
        """Catch up lazily to the tick containing ``now`` (a clock going back is ignored)."""
        target = math.floor(now / self.refresh_s)
        missed = target - self.tick
        if missed <= 0:
            return
        if missed > MAX_CATCHUP_TICKS:
            for walk in self.walks.values():
                walk.jump(missed - MAX_CATCHUP_TICKS)
            missed = MAX_CATCHUP_TICKS
        for walk in self.walks.values():
            walk.step(missed)
        self.tick = target

    def quotes(self) -> dict[str, Quote]:
        """A price snapshot of every coin at the current tick."""
        return {coin: walk.quote() for coin, walk in self.walks.items()}
