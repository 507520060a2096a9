"""A local, CoinGecko-compatible price API with fault injection.

The simulator serves ``/api/v3/ping`` and ``/api/v3/simple/price`` like the
public API, driven by a seeded random walk per coin, plus a small control API
under ``/_sim/`` to inject faults and to read the served log, the ground truth
the later layers (Kafka, Iceberg) are compared against.

All the logic lives in :meth:`Simulator.handle`, a pure request -> response
function with an injectable clock, so tests need neither sockets nor sleeps.

Run it with ``python -m dataops.simulator --help``.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import logging
import math
import random
import signal
import sys
import threading
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote

from dataops.errors import DataOpsError, PortInUseError, UnknownCoinError

logger = logging.getLogger(__name__)

__all__ = [
    "CATALOG",
    "DEFAULT_COINS",
    "FAULTS",
    "KNOWN_COINS",
    "RATES",
    "CoinSpec",
    "Fault",
    "Simulator",
    "main",
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
DEFAULT_COINS: tuple[str, ...] = ("bitcoin", "ethereum", "binancecoin", "cardano", "solana")

# Units of currency per 1 USD; fixed so every currency moves exactly like usd.
RATES: dict[str, float] = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "jpy": 151.5}

FAULTS: tuple[str, ...] = (
    "rate_limit",
    "outage",
    "latency",
    "malformed",
    "schema_drift",
    "freeze",
    "missing_coin",
    "spike",
)

PING_PATH = "/api/v3/ping"
PRICE_PATH = "/api/v3/simple/price"
API_PREFIX = "/api/v3"
CONTROL_PREFIX = "/_sim"

SECONDS_PER_DAY = 86_400
# Half-life of a deviation from the long-run level: the walk wanders a few
# percent per day yet stays near realistic levels for weeks.
HALF_LIFE_DAYS = 5.0
VOLUME_NOISE = 0.15  # stationary std of the log volume factor
VOLUME_CORRELATION_S = 3_600.0
# Beyond this many missed ticks the walk jumps (exact OU transition) instead of stepping.
MAX_CATCHUP_TICKS = 20_000
MAX_LOG_IN_MEMORY = 200_000
MAX_REQUESTS_LIMIT = 100_000
DEFAULT_FAULT_DURATION_S = 30.0
MAX_DELAY_S = 300.0
RATE_LIMIT_MESSAGE = (
    "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
    "to subscribe to our API plans for higher rate limits."
)
JSON_TYPE = "application/json"

_MISSING = object()


# ---------------------------------------------------------------------------
# Market model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quote:
    price_usd: float
    volume_usd: float
    change_pct: float
    updated_at: int


class _CoinWalk:
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

    def quote(self) -> _Quote:
        price = self.history[self.tick % self.size]
        # Oldest stored price: exactly one day of ticks back once the buffer is full.
        reference = self.history[(self.tick - self.count + 1) % self.size]
        market_cap = price * self.spec.supply
        return _Quote(
            price_usd=price,
            volume_usd=market_cap * self.spec.volume_ratio * math.exp(self.v),
            change_pct=(price / reference - 1.0) * 100.0,
            updated_at=int(self.tick * self.refresh_s),
        )


class _Market:
    """All coin walks on one shared tick grid (tick = floor(unix_time / refresh_s))."""

    def __init__(self, coins: list[str], seed: int, refresh_s: float, now: float) -> None:
        self.refresh_s = refresh_s
        self.tick = math.floor(now / refresh_s)
        self.walks = {c: _CoinWalk(CATALOG[c], seed, refresh_s, self.tick) for c in coins}

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

    def quotes(self) -> dict[str, _Quote]:
        return {coin: walk.quote() for coin, walk in self.walks.items()}


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


@dataclass
class Fault:
    """An injected, time-bounded fault.

    Attributes:
        id: Identifier used by ``DELETE /_sim/faults/<id>``.
        name: One of :data:`FAULTS`.
        params: Effective parameters (defaults filled in).
        started_at: Unix time the fault was injected.
        ends_at: Unix time the fault expires.
    """

    id: str
    name: str
    params: dict[str, Any]
    started_at: float
    ends_at: float
    snapshot: dict[str, _Quote] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON form served by the control API."""
        return {
            "id": self.id,
            "name": self.name,
            "params": dict(self.params),
            "started_at": self.started_at,
            "ends_at": self.ends_at,
        }


class _BadRequest(Exception):
    """A control-API request the simulator refuses (becomes a 400)."""

    def __init__(self, message: str, kind: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


# name -> {param: (type, default)}; a default of _MISSING means "absent unless given".
_FAULT_PARAMS: dict[str, dict[str, tuple[type, Any]]] = {
    "rate_limit": {"retry_after_s": (int, _MISSING)},
    "outage": {"status": (int, 503)},
    "latency": {"delay_s": (float, 3.0)},
    "malformed": {},
    "schema_drift": {"mode": (str, "rename")},
    "freeze": {"keep_timestamps": (bool, False), "coin": (str, _MISSING)},
    "missing_coin": {"coin": (str, "cardano")},
    "spike": {"coin": (str, "bitcoin"), "factor": (float, 1.5)},
}
_DRIFT_MODES = ("rename", "retype")


def _typed(name: str, value: Any, expected: type) -> Any:
    """Check a JSON value against ``expected`` (bool is never a number here)."""
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise _BadRequest(f"parameter {name!r} must be of type {expected.__name__}, got {value!r}")
    return value


# ---------------------------------------------------------------------------
# Simulator
# ---------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: int
    headers: dict[str, str]
    body: bytes
    path: str = ""
    query: str = ""
    record: bool = False
    delay_s: float = 0.0
    faults: list[str] = field(default_factory=list)


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _json_outcome(status: int, payload: Any, **extra_headers: str) -> _Outcome:
    return _Outcome(status, {"Content-Type": JSON_TYPE, **extra_headers}, _json_bytes(payload))


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _split_csv(raw: str) -> list[str]:
    """Comma-separated values, stripped, lower-cased, de-duplicated, order kept."""
    seen: dict[str, None] = {}
    for item in raw.split(","):
        item = item.strip().lower()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _last_seq(path: Path) -> int:
    """Highest ``seq`` in an existing JSON-lines log (0 if none); tolerates a torn last line."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    size = path.stat().st_size
    tail = min(size, 1 << 20)
    with path.open("rb") as fh:
        fh.seek(size - tail)
        lines = fh.read().splitlines()
    if tail < size:
        lines = lines[1:]  # the first line of the tail is probably cut
    for line in reversed(lines):
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            return seq
    if tail < size:  # no valid line in the tail: scan everything
        best = 0
        with path.open("rb") as fh:
            for line in fh:
                try:
                    seq = json.loads(line).get("seq")
                except (ValueError, AttributeError):
                    continue
                if isinstance(seq, int):
                    best = max(best, seq)
        return best
    return 0


class Simulator:
    """CoinGecko-compatible API simulator with fault injection.

    Args:
        coins: Coin ids to serve (default :data:`DEFAULT_COINS`), from :data:`KNOWN_COINS`.
        seed: Seed of the market random walk; same seed + same clock => same prices.
        refresh_s: Seconds between two price ticks.
        log_path: JSON-lines file the served log is appended to; ``seq`` continues
            after the last entry already in it.
        clock: Source of unix time (inject a fake one in tests).

    Raises:
        UnknownCoinError: A coin id is not in the catalog.
    """

    def __init__(
        self,
        coins: list[str] | None = None,
        seed: int = 42,
        refresh_s: float = 1.0,
        log_path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        wanted = list(DEFAULT_COINS) if coins is None else _split_csv(",".join(coins))
        unknown = [c for c in wanted if c not in CATALOG]
        if unknown:
            raise UnknownCoinError(
                f"unknown coin(s) {', '.join(unknown)}",
                f"choose from {', '.join(KNOWN_COINS)}",
            )
        if not wanted:
            raise DataOpsError("the simulator needs at least one coin", f"choose from {', '.join(KNOWN_COINS)}")
        if not refresh_s > 0:
            raise ValueError(f"refresh_s must be > 0, got {refresh_s}")
        self.coins: list[str] = wanted
        self.seed = seed
        self.refresh_s = float(refresh_s)
        self._clock = clock
        self._lock = threading.Lock()
        self.started_at = clock()
        self._market = _Market(wanted, seed, self.refresh_s, self.started_at)
        self._faults: list[Fault] = []
        self._fault_counter = 0
        self._log: list[dict[str, Any]] = []
        self._served = 0
        self.log_path = Path(log_path) if log_path is not None else None
        self._log_file: TextIO | None = None
        self._seq = 0
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._seq = _last_seq(self.log_path)
            torn = self.log_path.exists() and self.log_path.stat().st_size > 0 and not self._ends_with_newline()
            self._log_file = self.log_path.open("a", encoding="utf-8")
            if torn:
                self._log_file.write("\n")
                self._log_file.flush()

    def _ends_with_newline(self) -> bool:
        assert self.log_path is not None
        with self.log_path.open("rb") as fh:
            fh.seek(-1, 2)
            return fh.read(1) == b"\n"

    def close(self) -> None:
        """Close the log file (the simulator keeps answering, without a file)."""
        with self._lock:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- request handling -------------------------------------------------

    def handle(self, method: str, path: str, query: str = "", body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        """Answer one request without any socket; the served log records it.

        An active ``latency`` fault is not slept here: it is reported in the
        ``X-Sim-Delay`` header (seconds) and added to the recorded latency and ts.

        Args:
            method: HTTP method.
            path: URL path (a ``?query`` suffix is tolerated).
            query: Raw query string without ``?``.
            body: Request body (control API only).

        Returns:
            ``(status, headers, body)``.
        """
        started = time.perf_counter()
        outcome = self._process(method, path, query, body)
        if outcome.record:
            elapsed = time.perf_counter() - started + outcome.delay_s
            self._record(outcome, ts=self._clock() + outcome.delay_s, latency_ms=elapsed * 1000.0)
        return outcome.status, dict(outcome.headers), outcome.body

    def _process(self, method: str, path: str, query: str, body: bytes) -> _Outcome:
        if "?" in path:
            path, _, extra = path.partition("?")
            query = f"{query}&{extra}" if query else extra
        path = unquote(path)
        if len(path) > 1:
            path = path.rstrip("/")
        method = method.upper()
        with self._lock:
            now = self._clock()
            if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                return self._api(method, path, query, now)
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                try:
                    return self._control(method, path, query, body, now)
                except _BadRequest as exc:
                    return _json_outcome(400, {"error": exc.message, "kind": exc.kind})
            return _json_outcome(404, {"error": "Incorrect path. Please check the API documentation."})

    def _active_faults(self, now: float) -> list[Fault]:
        self._faults = [f for f in self._faults if f.ends_at > now]
        return list(self._faults)

    def _api(self, method: str, path: str, query: str, now: float) -> _Outcome:
        self._market.advance(now)
        faults = self._active_faults(now)
        names = list(dict.fromkeys(f.name for f in faults))
        delay = max((f.params["delay_s"] for f in faults if f.name == "latency"), default=0.0)
        rate_limits = [f for f in faults if f.name == "rate_limit"]
        outages = [f for f in faults if f.name == "outage"]

        # The rate limiter sits in front of the service, so it answers first.
        if rate_limits:
            retry = max(
                int(f.params["retry_after_s"]) if "retry_after_s" in f.params else max(1, math.ceil(f.ends_at - now))
                for f in rate_limits
            )
            outcome = _json_outcome(
                429,
                {"status": {"error_code": 429, "error_message": RATE_LIMIT_MESSAGE}},
                **{"Retry-After": str(retry)},
            )
        elif outages:
            status = outages[0].params["status"]
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Server Error"
            outcome = _json_outcome(status, {"status": {"error_code": status, "error_message": phrase}})
        elif method != "GET":
            outcome = _json_outcome(405, {"error": "Method Not Allowed"}, Allow="GET")
        elif path == PING_PATH:
            outcome = _json_outcome(200, {"gecko_says": "(V3) To the Moon!"})
        elif path == PRICE_PATH:
            outcome = self._simple_price(query, faults, now)
        else:
            outcome = _json_outcome(404, {"error": "Incorrect path. Please check the API documentation."})

        if outcome.status == 200 and "malformed" in names:
            outcome.body = _truncate(outcome.body)
        if delay > 0:
            outcome.headers["X-Sim-Delay"] = f"{delay:.3f}"
        outcome.path, outcome.query, outcome.record = path, query, True
        outcome.delay_s, outcome.faults = delay, names
        return outcome

    def _simple_price(self, query: str, faults: list[Fault], now: float) -> _Outcome:
        params = parse_qs(query, keep_blank_values=True)

        def first(name: str) -> str | None:
            values = params.get(name)
            return values[0] if values else None

        ids_raw, vs_raw = first("ids"), first("vs_currencies")
        if ids_raw is None or not ids_raw.strip():
            return _json_outcome(400, {"error": "Missing parameter ids"})
        if vs_raw is None or not vs_raw.strip():
            return _json_outcome(400, {"error": "Missing parameter vs_currencies"})
        precision_raw = first("precision")
        precision: int | None = None
        if precision_raw is not None:
            text = precision_raw.strip().lower()
            if text != "full":
                if not (text.isdigit() and 0 <= int(text) <= 18):
                    return _json_outcome(
                        400, {"error": "Invalid precision. Use 'full' or an integer from 0 to 18."}
                    )
                precision = int(text)

        with_cap = _is_true(first("include_market_cap"))
        with_vol = _is_true(first("include_24hr_vol"))
        with_change = _is_true(first("include_24hr_change"))
        with_updated = _is_true(first("include_last_updated_at"))

        missing = {f.params["coin"] for f in faults if f.name == "missing_coin"}
        coins = [c for c in _split_csv(ids_raw) if c in self._market.walks and c not in missing]
        currencies = [c for c in _split_csv(vs_raw) if c in RATES]
        quotes = self._quotes(faults)

        def number(value: float) -> float | int:
            if precision is None:
                return value
            return int(round(value)) if precision == 0 else round(value, precision)

        payload: dict[str, dict[str, Any]] = {}
        for coin in coins:
            quote = quotes[coin]
            factor = math.prod(f.params["factor"] for f in faults if f.name == "spike" and f.params["coin"] == coin)
            price_usd = quote.price_usd * factor
            market_cap_usd = price_usd * CATALOG[coin].supply
            entry: dict[str, Any] = {}
            for cur in currencies:
                rate = RATES[cur]
                entry[cur] = number(price_usd * rate)
                if with_cap:
                    entry[f"{cur}_market_cap"] = number(market_cap_usd * rate)
                if with_vol:
                    entry[f"{cur}_24h_vol"] = number(quote.volume_usd * rate)
                if with_change:
                    entry[f"{cur}_24h_change"] = number(quote.change_pct)
            if with_updated:
                entry["last_updated_at"] = quote.updated_at
            for fault in faults:
                if fault.name == "schema_drift":
                    entry = _drift(entry, currencies, fault.params["mode"])
            payload[coin] = entry
        return _json_outcome(200, payload)

    def _quotes(self, faults: list[Fault]) -> dict[str, _Quote]:
        """Live quotes, with each frozen coin replaced by its snapshot (the oldest freeze wins)."""
        live = self._market.quotes()
        quotes = dict(live)
        frozen: set[str] = set()
        for freeze in sorted((f for f in faults if f.name == "freeze" and f.snapshot is not None), key=lambda f: f.started_at):
            assert freeze.snapshot is not None
            coins = [freeze.params["coin"]] if "coin" in freeze.params else list(freeze.snapshot)
            for coin in coins:
                if coin in frozen or coin not in freeze.snapshot:
                    continue
                frozen.add(coin)
                q = freeze.snapshot[coin]
                updated = live[coin].updated_at if freeze.params["keep_timestamps"] else q.updated_at
                quotes[coin] = _Quote(q.price_usd, q.volume_usd, q.change_pct, updated)
        return quotes

    # -- control API ------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: bytes, now: float) -> _Outcome:
        parts = path.split("/")[2:]  # "/_sim/faults/x" -> ["faults", "x"]
        route = parts[0] if parts else ""
        if route == "health" and len(parts) == 1:
            if method != "GET":
                return _json_outcome(405, {"error": "Method Not Allowed"}, Allow="GET")
            return _json_outcome(200, self._health())
        if route == "faults" and len(parts) == 1:
            if method == "GET":
                return _json_outcome(200, [f.to_dict() for f in self._active_faults(now)])
            if method == "POST":
                return _json_outcome(201, self._create_fault(body, now).to_dict())
            if method == "DELETE":
                cleared = len(self._active_faults(now))
                self._faults = []
                return _json_outcome(200, {"cleared": cleared})
            return _json_outcome(405, {"error": "Method Not Allowed"}, Allow="GET, POST, DELETE")
        if route == "faults" and len(parts) == 2:
            if method != "DELETE":
                return _json_outcome(405, {"error": "Method Not Allowed"}, Allow="DELETE")
            fault_id = parts[1]
            active = self._active_faults(now)
            kept = [f for f in active if f.id != fault_id]
            if len(kept) == len(active):
                return _json_outcome(404, {"error": f"no active fault with id {fault_id!r}"})
            self._faults = kept
            return _json_outcome(200, {"cleared": 1})
        if route == "requests" and len(parts) == 1:
            if method != "GET":
                return _json_outcome(405, {"error": "Method Not Allowed"}, Allow="GET")
            return _json_outcome(200, self._requests(query))
        return _json_outcome(404, {"error": f"unknown control path {path}"})

    def _health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "coins": list(self.coins),
            "currencies": list(RATES),
            "seed": self.seed,
            "refresh_s": self.refresh_s,
            "started_at": self.started_at,
            "served": self._served,
        }

    def _requests(self, query: str) -> list[dict[str, Any]]:
        params = parse_qs(query)
        values: dict[str, int] = {}
        for name, default, low, high in (("since", 0, 0, None), ("limit", 10_000, 1, MAX_REQUESTS_LIMIT)):
            raw = params.get(name, [str(default)])[0].strip()
            try:
                value = int(raw)
            except ValueError:
                raise _BadRequest(f"{name} must be an integer, got {raw!r}") from None
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                raise _BadRequest(f"{name} must be {bound}, got {value}")
            values[name] = value
        start = bisect_right(self._log, values["since"], key=lambda e: e["seq"])
        return self._log[start : start + values["limit"]]

    def _create_fault(self, body: bytes, now: float) -> Fault:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            raise _BadRequest("the request body must be a JSON object") from None
        if not isinstance(spec, dict):
            raise _BadRequest("the request body must be a JSON object")
        name = spec.get("name")
        if name not in FAULTS:
            raise _BadRequest(f"unknown fault {name!r}; choose one of {', '.join(FAULTS)}", "unknown_fault")
        extra = set(spec) - {"name", "duration_s", "params"}
        if extra:
            raise _BadRequest(f"unknown field(s) {', '.join(sorted(extra))}; expected name, duration_s, params")
        duration = _typed("duration_s", spec.get("duration_s", DEFAULT_FAULT_DURATION_S), float)
        if duration <= 0:
            raise _BadRequest(f"duration_s must be > 0, got {duration}")
        given = spec.get("params") or {}
        if not isinstance(given, dict):
            raise _BadRequest("params must be a JSON object")
        allowed = _FAULT_PARAMS[name]
        unknown = set(given) - set(allowed)
        if unknown:
            choices = ", ".join(allowed) or "none"
            raise _BadRequest(f"unknown parameter(s) {', '.join(sorted(unknown))} for {name}; allowed: {choices}")
        params: dict[str, Any] = {}
        for key, (kind, default) in allowed.items():
            if key in given:
                params[key] = _typed(key, given[key], kind)
            elif default is not _MISSING:
                params[key] = default
        self._validate(name, params)

        self._market.advance(now)
        self._fault_counter += 1
        fault = Fault(f"{name}-{self._fault_counter}", name, params, now, now + duration)
        if name == "freeze":
            fault.snapshot = self._quotes(self._active_faults(now))
        self._faults.append(fault)
        logger.info("fault %s injected for %.1fs with %s", fault.id, duration, params)
        return fault

    def _validate(self, name: str, params: dict[str, Any]) -> None:
        if "coin" in params and params["coin"] not in self.coins:
            raise _BadRequest(
                f"coin {params['coin']!r} is not served; choose one of {', '.join(self.coins)}", "unknown_coin"
            )
        if name == "rate_limit" and params.get("retry_after_s", 1) < 0:
            raise _BadRequest("retry_after_s must be >= 0")
        if name == "outage" and not 500 <= params["status"] <= 599:
            raise _BadRequest(f"status must be between 500 and 599, got {params['status']}")
        if name == "latency" and not 0 <= params["delay_s"] <= MAX_DELAY_S:
            raise _BadRequest(f"delay_s must be between 0 and {MAX_DELAY_S:g}, got {params['delay_s']}")
        if name == "schema_drift" and params["mode"] not in _DRIFT_MODES:
            raise _BadRequest(f"unknown mode {params['mode']!r}; choose one of {', '.join(_DRIFT_MODES)}")
        if name == "spike" and params["factor"] <= 0:
            raise _BadRequest(f"factor must be > 0, got {params['factor']}")

    # -- served log -------------------------------------------------------

    def _record(self, outcome: _Outcome, ts: float, latency_ms: float) -> None:
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "ts": ts,
                "path": outcome.path,
                "query": outcome.query,
                "status": outcome.status,
                "latency_ms": round(latency_ms, 3),
                "digest": hashlib.sha256(outcome.body).hexdigest(),
                "faults": list(outcome.faults),
                "body": outcome.body.decode("utf-8", "replace") if outcome.path == PRICE_PATH else None,
            }
            self._log.append(entry)
            if len(self._log) > MAX_LOG_IN_MEMORY:
                del self._log[: len(self._log) - MAX_LOG_IN_MEMORY]
            self._served += 1
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry, separators=(",", ":")) + "\n")
                self._log_file.flush()

    # -- HTTP server ------------------------------------------------------

    def _serve_one(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        started = time.perf_counter()
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        try:
            outcome = self._process(method, path, query, body)
        except Exception:  # noqa: BLE001 - a bug must not kill the server thread
            logger.exception("simulator failed on %s %s", method, path)
            outcome = _json_outcome(500, {"error": "internal simulator error"})
        if outcome.delay_s > 0:
            time.sleep(outcome.delay_s)  # outside the lock: other requests keep flowing
        try:
            handler.send_response(outcome.status)
            for key, value in outcome.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(outcome.body)))
            handler.end_headers()
            handler.wfile.write(outcome.body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            logger.info("client went away before %s %s was answered", method, path)
        if outcome.record:
            self._record(outcome, ts=self._clock(), latency_ms=(time.perf_counter() - started) * 1000.0)

    def serve(self, host: str = "127.0.0.1", port: int = 8090) -> ThreadingHTTPServer:
        """Serve over HTTP from a daemon thread.

        Args:
            host: Interface to bind.
            port: TCP port (0 picks a free one; read ``server.server_address``).

        Returns:
            The running server; call ``.shutdown()`` then ``.server_close()`` to stop it.

        Raises:
            PortInUseError: The port is taken.
        """
        handler = type("SimulatorHandler", (_Handler,), {"simulator": self})
        try:
            server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("CoinGecko simulator", port) from None
            raise
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name=f"simulator-{port}", daemon=True)
        thread.start()
        logger.info("simulator serving %s on http://%s:%d", ",".join(self.coins), host, server.server_address[1])
        return server


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    server_version = "dataops-simulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.simulator._serve_one(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self.simulator._serve_one(self, "PUT")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        # Only the request line, never headers (API keys may travel in them).
        logger.debug("%s %s", self.address_string(), format % args)


def _truncate(body: bytes) -> bytes:
    """Cut a JSON body roughly in half so it never parses."""
    cut = body[: max(1, len(body) // 2)]
    while cut:
        try:
            json.loads(cut)
        except ValueError:
            return cut
        cut = cut[:-1]
    return b"{"


def _drift(entry: dict[str, Any], currencies: list[str], mode: str) -> dict[str, Any]:
    """Apply one schema-drift mode to a coin's entry."""
    drifted: dict[str, Any] = {}
    for key, value in entry.items():
        if key in currencies:
            if mode == "rename":
                drifted[f"{key}_price"] = value
            else:
                drifted[key] = str(value)
        elif key == "last_updated_at" and mode == "retype" and isinstance(value, int):
            drifted[key] = datetime.fromtimestamp(value, UTC).isoformat()
        else:
            drifted[key] = value
    return drifted


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM or Ctrl-C.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(
        prog="python -m dataops.simulator",
        description="CoinGecko-compatible price API simulator with fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8090, help="TCP port (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random-walk seed (default: %(default)s)")
    parser.add_argument("--refresh-s", type=float, default=1.0, help="seconds per price tick (default: %(default)s)")
    parser.add_argument(
        "--coins",
        default=",".join(DEFAULT_COINS),
        help=f"comma-separated coin ids (default: %(default)s; known: {', '.join(KNOWN_COINS)})",
    )
    parser.add_argument("--log", default=None, help="JSON-lines file of the served log (appended)")
    args = parser.parse_args(argv)
    if not args.refresh_s > 0:
        parser.error("--refresh-s must be > 0")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    try:
        sim = Simulator(coins=args.coins.split(","), seed=args.seed, refresh_s=args.refresh_s, log_path=args.log)
        server = sim.serve(args.host, args.port)
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logger.info("received signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
