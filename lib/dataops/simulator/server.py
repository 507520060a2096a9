"""The simulator's price API and its request handling.

:class:`Simulator` answers ``/api/v3/ping`` and ``/api/v3/simple/price`` from
the market model, shaped by the active faults, and a control API under
``/_sim/`` (health, faults, the served log kept by :mod:`.served`; the routes
are in :mod:`.control`). All the logic lives in :meth:`Simulator.handle`, a pure
request -> response function with an injectable clock, so tests need neither
sockets nor sleeps; :meth:`Simulator.serve` (:mod:`.httpd`) puts it behind a
threaded HTTP server.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from dataops import rotation
from dataops.errors import BadRequestError
from dataops.simulator.control import CONTROL_HEADER, CONTROL_PREFIX, ControlAPI
from dataops.simulator.faults import (
    Fault,
    FaultState,
    drift,
    frozen_quotes,
    latency_s,
    refusal,
    truncate,
)
from dataops.simulator.httpd import HTTPServing
from dataops.simulator.market import CATALOG, RATES, Market, Quote, select_coins, split_csv
from dataops.simulator.outcome import NOT_FOUND, Outcome, json_outcome, not_allowed
from dataops.simulator.served import ServedLog
from dataops.simulator.strict import StrictRules, without_keys

__all__ = ["PING_PATH", "PRICE_PATH", "Simulator"]

PING_PATH = "/api/v3/ping"
PRICE_PATH = "/api/v3/simple/price"
API_PREFIX = "/api/v3"


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


class Simulator(ControlAPI, HTTPServing):
    """CoinGecko-compatible API simulator with fault injection.

    Args:
        coins: Coin ids to serve (default :data:`DEFAULT_COINS`), from :data:`KNOWN_COINS`.
        seed: Seed of the market random walk; same seed + same clock => same prices.
        refresh_s: Seconds between two price ticks.
        log_path: JSON-lines file the served log is appended to; ``seq`` continues
            after the last entry already in it.
        log_max_bytes: Size at which the served log's file rotates.
        log_backups: Rotated files of the served log kept besides the current one.
        clock: Source of unix time (inject a fake one in tests).
        strict: CoinGecko's key and rate-limit rules (:mod:`.strict`); None answers anyone.

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
        log_max_bytes: int = rotation.DEFAULT_MAX_BYTES,
        log_backups: int = rotation.DEFAULT_BACKUPS,
        strict: StrictRules | None = None,
        control_token: str | None = None,
    ) -> None:
        wanted = select_coins(coins)
        if not refresh_s > 0:
            raise ValueError(f"refresh_s debe ser > 0, no {refresh_s}")
        self.coins: list[str] = wanted
        self.seed = seed
        self.refresh_s = float(refresh_s)
        self._clock = clock
        self._lock = threading.Lock()
        self.started_at = clock()
        self._market = Market(wanted, seed, self.refresh_s, self.started_at)
        self._faults = FaultState()
        self._log = ServedLog(log_path, log_max_bytes, log_backups)
        self.log_path = self._log.path
        self.strict = strict
        # With a token, changing the simulator (faults in, faults out) asks for it in CONTROL_HEADER:
        # on a class server each learner's simulator obeys its learner only.
        self._control_token = control_token

    def close(self) -> None:
        """Close the log file (the simulator keeps answering, without a file)."""
        with self._lock:
            self._log.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- request handling -------------------------------------------------

    def handle(
        self, method: str, path: str, query: str = "", body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request without any socket; the served log records it.

        An active ``latency`` fault is not slept here: it is reported in the
        ``X-Sim-Delay`` header (seconds) and added to the recorded latency and ts.

        Args:
            method: HTTP method.
            path: URL path (a ``?query`` suffix is tolerated).
            query: Raw query string without ``?``.
            body: Request body (control API only).
            headers: Request headers (the API key's, in strict mode).

        Returns:
            ``(status, headers, body)``.
        """
        started = time.perf_counter()
        outcome = self._process(method, path, query, body, headers or {})
        if outcome.record:
            elapsed = time.perf_counter() - started + outcome.delay_s
            self._record(outcome, ts=self._clock() + outcome.delay_s, latency_ms=elapsed * 1000.0)
        return outcome.status, dict(outcome.headers), outcome.body

    def _process(self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        if "?" in path:
            path, _, extra = path.partition("?")
            query = f"{query}&{extra}" if query else extra
        path = unquote(path)
        if len(path) > 1:
            path = path.rstrip("/")
        method = method.upper()
        if path.startswith(CONTROL_PREFIX + "/") and method != "GET" and not self._may_control(headers):
            return json_outcome(403, {"error": f"this simulator's faults need its control token in {CONTROL_HEADER}", "kind": "forbidden"})
        if path == CONTROL_PREFIX + "/requests" and method == "GET":
            # The served log has its own locks: a page read from its files never holds up the API.
            try:
                return self._requests(query)
            except BadRequestError as exc:
                return json_outcome(400, {"error": exc.message, "kind": exc.kind})
        with self._lock:
            now = self._clock()
            if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                return self._api(method, path, query, now, headers)
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                try:
                    return self._control(method, path, query, body, now)
                except BadRequestError as exc:
                    return json_outcome(400, {"error": exc.message, "kind": exc.kind})
            return json_outcome(404, NOT_FOUND)

    def _may_control(self, headers: Mapping[str, str]) -> bool:
        if self._control_token is None:
            return True
        given = next((v for k, v in headers.items() if k.lower() == CONTROL_HEADER.lower()), "")
        return hmac.compare_digest(given.encode(), self._control_token.encode())

    def _api(self, method: str, path: str, query: str, now: float, headers: Mapping[str, str]) -> Outcome:
        self._market.advance(now)
        faults = self._faults.active(now)
        names = list(dict.fromkeys(f.name for f in faults))
        delay = latency_s(faults)
        refused = refusal(faults, now)
        # CoinGecko checks the key and counts the call before anything else answers.
        denied = self.strict.check(headers, query, now) if self.strict is not None else None
        if denied is not None:
            outcome, names, delay = denied, [], 0.0
        elif refused is not None:
            status, payload, extra = refused
            outcome = json_outcome(status, payload, **extra)
        elif method != "GET":
            outcome = not_allowed("GET")
        elif path == PING_PATH:
            outcome = json_outcome(200, {"gecko_says": "(V3) To the Moon!"})
        elif path == PRICE_PATH:
            outcome = self._simple_price(query, faults)
        else:
            outcome = json_outcome(404, NOT_FOUND)

        if outcome.status == 200 and "malformed" in names:
            outcome.body = truncate(outcome.body)
        if delay > 0:
            outcome.headers["X-Sim-Delay"] = f"{delay:.3f}"
        outcome.path, outcome.query, outcome.record = path, without_keys(query), True
        outcome.delay_s, outcome.faults = delay, names
        return outcome

    def _simple_price(self, query: str, faults: list[Fault]) -> Outcome:
        params = parse_qs(query, keep_blank_values=True)

        def first(name: str) -> str | None:
            values = params.get(name)
            return values[0] if values else None

        ids_raw, vs_raw = first("ids"), first("vs_currencies")
        if ids_raw is None or not ids_raw.strip():
            return json_outcome(400, {"error": "Missing parameter ids"})
        if vs_raw is None or not vs_raw.strip():
            return json_outcome(400, {"error": "Missing parameter vs_currencies"})
        precision_raw = first("precision")
        precision: int | None = None
        if precision_raw is not None:
            text = precision_raw.strip().lower()
            if text != "full":
                if not (text.isdigit() and 0 <= int(text) <= 18):
                    return json_outcome(
                        400, {"error": "Invalid precision. Use 'full' or an integer from 0 to 18."}
                    )
                precision = int(text)

        with_cap = _is_true(first("include_market_cap"))
        with_vol = _is_true(first("include_24hr_vol"))
        with_change = _is_true(first("include_24hr_change"))
        with_updated = _is_true(first("include_last_updated_at"))

        missing = {f.params["coin"] for f in faults if f.name == "missing_coin"}
        coins = [c for c in split_csv(ids_raw) if c in self._market.walks and c not in missing]
        currencies = [c for c in split_csv(vs_raw) if c in RATES]
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
            told = [f.params["change_24h"] for f in faults if f.name == "spike" and f.params["coin"] == coin and "change_24h" in f.params]
            change_pct = told[-1] if told else quote.change_pct
            entry: dict[str, Any] = {}
            for cur in currencies:
                rate = RATES[cur]
                entry[cur] = number(price_usd * rate)
                if with_cap:
                    entry[f"{cur}_market_cap"] = number(market_cap_usd * rate)
                if with_vol:
                    entry[f"{cur}_24h_vol"] = number(quote.volume_usd * rate)
                if with_change:
                    entry[f"{cur}_24h_change"] = number(change_pct)
            if with_updated:
                entry["last_updated_at"] = quote.updated_at
            for fault in faults:
                if fault.name == "schema_drift":
                    entry = drift(entry, currencies, fault.params["mode"])
            payload[coin] = entry
        return json_outcome(200, payload)

    def _quotes(self, faults: list[Fault]) -> dict[str, Quote]:
        return frozen_quotes(self._market.quotes(), faults)

    def _record(self, outcome: Outcome, ts: float, latency_ms: float) -> None:
        with self._lock:
            self._log.append(
                ts=ts,
                path=outcome.path,
                query=outcome.query,
                status=outcome.status,
                latency_ms=latency_ms,
                body=outcome.body,
                faults=outcome.faults,
                keep_body=outcome.path == PRICE_PATH,
            )
